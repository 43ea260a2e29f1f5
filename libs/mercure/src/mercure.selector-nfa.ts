/**
 * A tiny Thompson NFA: the matching engine of URI-template selectors. Matching simulates every
 * state at once, so it costs O(topic length x states) whatever the template, with no backtracking.
 */

/** A set of UTF-16 code units: an ASCII table plus one flag for every code unit >= 0x80. */
export interface CharSet {
  readonly ascii: Uint8Array;
  readonly nonAscii: boolean;
}

/** The pieces a matcher is built from. */
export type NfaNode =
  | { readonly k: 'set'; readonly set: CharSet }
  | { readonly k: 'lit'; readonly s: string }
  | { readonly k: 'seq'; readonly xs: readonly NfaNode[] }
  | { readonly k: 'alt'; readonly xs: readonly NfaNode[] }
  | { readonly k: 'star'; readonly x: NfaNode }
  | { readonly k: 'opt'; readonly x: NfaNode }
  /** Between 0 and `n` repetitions of `x`. */
  | { readonly k: 'upto'; readonly x: NfaNode; readonly n: number }
  /**
   * A non-empty ordered subsequence of `xs`, the first one after `first`, the others each after
   * `sep`; or nothing. Compiled in O(sum of xs) states (an RFC 6570 expression's variables).
   */
  | {
      readonly k: 'subseq';
      readonly first: string;
      readonly sep: string;
      readonly xs: readonly NfaNode[];
    };

/** Thrown when a matcher would need more than the state budget. */
export class NfaTooLargeError extends Error {}

/** Builds a CharSet from the ASCII characters in `chars` (and, optionally, all non-ASCII units). */
export function charSet(chars: string, nonAscii = false): CharSet {
  const ascii = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) ascii[chars.charCodeAt(i)] = 1;
  return { ascii, nonAscii };
}

const CHAR = 0;
const SPLIT = 1;
const MATCH = 2;

/** A compiled NFA: `test(input)` is true when the whole input is accepted. */
export class Nfa {
  private readonly type: number[] = [];
  private readonly a: number[] = [];
  private readonly b: number[] = [];
  private readonly sets: (CharSet | undefined)[] = [];
  private readonly lits: number[] = [];
  private readonly start: number;
  private marks: Int32Array;
  private gen = 0;
  // Work lists reused by every `test` (each holds every state at most once).
  private current: Int32Array;
  private next: Int32Array;
  private readonly stack: Int32Array;

  constructor(
    root: NfaNode,
    private readonly maxStates: number,
  ) {
    const match = this.push(MATCH, -1, -1);
    this.start = this.compile(root, match);
    const n = this.type.length;
    this.marks = new Int32Array(n);
    this.current = new Int32Array(n);
    this.next = new Int32Array(n);
    this.stack = new Int32Array(2 * n + 2);
  }

  /** Number of states. */
  get states(): number {
    return this.type.length;
  }

  /** True when `input[from..to)` (default: all of it) is accepted. */
  test(input: string, from = 0, to = input.length): boolean {
    let current = this.current;
    let next = this.next;
    this.bump();
    let count = this.add(current, 0, this.start);
    for (let i = from; i < to; i++) {
      if (count === 0) return false;
      const c = input.charCodeAt(i);
      this.bump();
      let n = 0;
      for (let k = 0; k < count; k++) {
        const s = current[k];
        if (this.type[s] !== CHAR) continue;
        const set = this.sets[s];
        const ok = set ? (c < 128 ? set.ascii[c] === 1 : set.nonAscii) : this.lits[s] === c;
        if (ok) n = this.add(next, n, this.a[s]);
      }
      const t = current;
      current = next;
      next = t;
      count = n;
    }
    for (let k = 0; k < count; k++) if (this.type[current[k]] === MATCH) return true;
    return false;
  }

  private bump(): void {
    this.gen++;
    if (this.gen === 0x7fffffff) {
      this.marks.fill(0);
      this.gen = 1;
    }
  }

  /** Adds `s` and its epsilon closure to `list` (holding `n` states); returns the new count. */
  private add(list: Int32Array, n: number, s: number): number {
    // An explicit stack: long optional chains must not blow the call stack.
    const stack = this.stack;
    let top = 0;
    stack[top++] = s;
    while (top > 0) {
      const st = stack[--top];
      if (this.marks[st] === this.gen) continue;
      this.marks[st] = this.gen;
      if (this.type[st] === SPLIT) {
        stack[top++] = this.b[st];
        stack[top++] = this.a[st];
      } else {
        list[n++] = st;
      }
    }
    return n;
  }

  private push(type: number, a: number, b: number, set?: CharSet, lit = -1): number {
    if (this.type.length >= this.maxStates) {
      throw new NfaTooLargeError(`more than ${this.maxStates} matcher states`);
    }
    this.type.push(type);
    this.a.push(a);
    this.b.push(b);
    this.sets.push(set);
    this.lits.push(lit);
    return this.type.length - 1;
  }

  /** Compiles `node` so that it continues at state `next`; returns its start state. */
  private compile(node: NfaNode, next: number): number {
    switch (node.k) {
      case 'set':
        return this.push(CHAR, next, -1, node.set);
      case 'lit': {
        let n = next;
        for (let i = node.s.length - 1; i >= 0; i--)
          n = this.push(CHAR, n, -1, undefined, node.s.charCodeAt(i));
        return n;
      }
      case 'seq': {
        let n = next;
        for (let i = node.xs.length - 1; i >= 0; i--) n = this.compile(node.xs[i], n);
        return n;
      }
      case 'alt': {
        if (node.xs.length === 0) return next;
        let n = this.compile(node.xs[node.xs.length - 1], next);
        for (let i = node.xs.length - 2; i >= 0; i--)
          n = this.push(SPLIT, this.compile(node.xs[i], next), n);
        return n;
      }
      case 'opt':
        return this.push(SPLIT, this.compile(node.x, next), next);
      case 'upto': {
        let n = next;
        for (let i = 0; i < node.n; i++) n = this.push(SPLIT, this.compile(node.x, n), next);
        return n;
      }
      case 'subseq': {
        // Track B (something emitted): b[i] accepts an ordered subsequence of xs[i..], each after sep.
        const k = node.xs.length;
        const b: number[] = new Array<number>(k + 1);
        b[k] = next;
        for (let i = k - 1; i >= 0; i--) {
          const take = this.compile({ k: 'lit', s: node.sep }, this.compile(node.xs[i], b[i + 1]));
          b[i] = this.push(SPLIT, take, b[i + 1]);
        }
        // Track A (nothing emitted yet): skip xs[i], or emit first + xs[i] and continue on track B.
        let a = next;
        for (let i = k - 1; i >= 0; i--) {
          const take = this.compile(
            { k: 'lit', s: node.first },
            this.compile(node.xs[i], b[i + 1]),
          );
          a = this.push(SPLIT, take, a);
        }
        return a;
      }
      case 'star': {
        const loop = this.push(SPLIT, -1, next);
        this.a[loop] = this.compile(node.x, loop);
        return loop;
      }
    }
  }
}
