export { describeBrokerContract } from './broker.contract';
export type { BrokerFactory, ContractBrokerOptions } from './broker.contract';
