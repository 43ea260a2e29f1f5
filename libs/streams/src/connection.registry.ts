import { Injectable } from '@nestjs/common';
import type { SseConnection } from './sse.connection';

/** The streams open on this instance. */
@Injectable()
export class ConnectionRegistry {
  private readonly connections = new Map<string, SseConnection>();

  get size(): number {
    return this.connections.size;
  }

  add(connection: SseConnection): void {
    this.connections.set(connection.id, connection);
    connection.onClose(() => this.connections.delete(connection.id));
  }

  get(id: string): SseConnection | undefined {
    return this.connections.get(id);
  }

  values(): IterableIterator<SseConnection> {
    return this.connections.values();
  }
}
