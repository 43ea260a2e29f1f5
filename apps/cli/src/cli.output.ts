import type { Writable } from 'node:stream';

/** ANSI styles used by the CLI. */
export type Style = 'red' | 'yellow' | 'green' | 'cyan' | 'dim' | 'bold';

const CODES: Record<Style, [number, number]> = {
  red: [31, 39],
  yellow: [33, 39],
  green: [32, 39],
  cyan: [36, 39],
  dim: [2, 22],
  bold: [1, 22],
};

/** A stream writer that colours only when the stream is a TTY and colours are not disabled. */
export class Output {
  /** True when ANSI colours are written. */
  readonly color: boolean;
  /** True when the stream is a terminal (progress lines are drawn only then). */
  readonly tty: boolean;
  private progressShown = false;

  constructor(
    private readonly stream: Writable & { isTTY?: boolean },
    noColor: boolean,
  ) {
    this.tty = stream.isTTY === true;
    this.color = this.tty && !noColor;
  }

  /** `text` wrapped in the ANSI codes of `style` (unchanged without colours). */
  paint(style: Style, text: string): string {
    if (!this.color) return text;
    const [on, off] = CODES[style];
    return `\x1b[${on}m${text}\x1b[${off}m`;
  }

  /** Writes one line (clearing a progress line first). */
  line(text = ''): void {
    this.clearProgress();
    this.stream.write(`${text}\n`);
  }

  /** Draws a one-line progress indicator in place (TTY only; a no-op otherwise). */
  progress(text: string): void {
    if (!this.tty) return;
    this.stream.write(`\r\x1b[2K${this.paint('dim', text)}`);
    this.progressShown = true;
  }

  /** Removes the progress line, if any. */
  clearProgress(): void {
    if (!this.progressShown) return;
    this.stream.write('\r\x1b[2K');
    this.progressShown = false;
  }
}

/** The CLI's two outputs: results on stdout, status and errors on stderr. */
export interface CliIo {
  readonly out: Output;
  readonly err: Output;
}

/** A usage error: the message is printed with the command's help hint, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure with a message for the user (exit code 1). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
