import { describeBrokerContract } from '@herald/broker/testing';
import { InMemoryBroker } from '@herald/broker';

describeBrokerContract('in-memory', (options) => Promise.resolve(new InMemoryBroker(options)));
