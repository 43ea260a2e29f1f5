import { describe, expect, it } from 'vitest';
import { compileUrlPattern } from './mercure.selector-urlpattern';
import {
  compileSelector,
  legacySelector,
  MERCURE_SELECTOR_LIMITS,
  MercureSelectorError,
  SelectorIndex,
  type MercureSelector,
} from './mercure.selector';

const tpl = (raw: string): MercureSelector => compileSelector(raw, 'template');
const pat = (raw: string, baseURL?: string): MercureSelector =>
  compileSelector(raw, 'urlpattern', { baseURL });

describe('exact selectors', () => {
  it('compare byte for byte, case-sensitively, without normalization', () => {
    const s = compileSelector('https://example.com/books/1', 'exact');
    expect(s.kind).toBe('exact');
    expect(s.raw).toBe('https://example.com/books/1');
    expect(s.matches('https://example.com/books/1')).toBe(true);
    expect(s.matches('https://EXAMPLE.com/books/1')).toBe(false);
    expect(s.matches('https://example.com/books/1/')).toBe(false);
    expect(s.matches('https://example.com/books/%31')).toBe(false);
    expect(compileSelector('caf\u00e9', 'exact').matches('cafe\u0301')).toBe(false);
    expect(compileSelector('{not-a-template}', 'exact').matches('{not-a-template}')).toBe(true);
  });

  it('treat * as the wildcard for every kind', () => {
    for (const kind of ['exact', 'template', 'urlpattern'] as const) {
      const s = compileSelector('*', kind);
      expect(s.kind).toBe(kind);
      expect(s.matches('anything')).toBe(true);
      expect(s.matches('https://example.com/a/b?c#d')).toBe(true);
    }
  });

  it('refuse empty, too long, control characters and lone surrogates', () => {
    expect(() => compileSelector('', 'exact')).toThrow(MercureSelectorError);
    expect(() =>
      compileSelector('a'.repeat(MERCURE_SELECTOR_LIMITS.maxLength + 1), 'exact'),
    ).toThrow(/longer than 2048/);
    expect(
      compileSelector('a'.repeat(MERCURE_SELECTOR_LIMITS.maxLength), 'exact').raw,
    ).toHaveLength(2048);
    expect(() => compileSelector('a\nb', 'exact')).toThrow(/control character at 1/);
    expect(() => compileSelector('a\u0000', 'template')).toThrow(/control character/);
    expect(() => compileSelector('a\u007f', 'urlpattern')).toThrow(/control character/);
    expect(() => compileSelector('a\u0085', 'exact')).toThrow(/control character/);
    expect(() => compileSelector('a\ud800', 'exact')).toThrow(/UTF-8/);
    expect(() => compileSelector('\udc00a', 'exact')).toThrow(/UTF-8/);
    expect(compileSelector('\u{1f600}', 'exact').matches('\u{1f600}')).toBe(true);
  });

  it('refuse an unknown kind', () => {
    expect(() => compileSelector('a', 'regexp' as never)).toThrow(
      /unknown topic selector kind "regexp"/,
    );
  });
});

describe('URI template selectors (RFC 6570)', () => {
  // The RFC's example variables and expansions (sections 1.2 and 3.2): every expansion must match.
  const expansions: [string, string][] = [
    ['{var}', 'value'],
    ['{hello}', 'Hello%20World%21'],
    ['{half}', '50%25'],
    ['O{empty}X', 'OX'],
    ['O{undef}X', 'OX'],
    ['{x,y}', '1024,768'],
    ['{x,hello,y}', '1024,Hello%20World%21,768'],
    ['?{x,empty}', '?1024,'],
    ['?{x,undef}', '?1024'],
    ['{var:3}', 'val'],
    ['{var:30}', 'value'],
    ['{list}', 'red,green,blue'],
    ['{list*}', 'red,green,blue'],
    ['{keys}', 'semi,%3B,dot,.,comma,%2C'],
    ['{keys*}', 'semi=%3B,dot=.,comma=%2C'],
    ['{+var}', 'value'],
    ['{+hello}', 'Hello%20World!'],
    ['{+path}/here', '/foo/bar/here'],
    ['here?ref={+path}', 'here?ref=/foo/bar'],
    ['{+x,hello,y}', '1024,Hello%20World!,768'],
    ['{+path:6}/here', '/foo/b/here'],
    ['{+list*}', 'red,green,blue'],
    ['{+keys*}', 'semi=;,dot=.,comma=,'],
    ['{#var}', '#value'],
    ['X{#var}', 'X#value'],
    ['{#hello}', '#Hello%20World!'],
    ['{#path:6}/here', '#/foo/b/here'],
    ['{#keys*}', '#semi=;,dot=.,comma=,'],
    ['{#x,hello,y}', '#1024,Hello%20World!,768'],
    ['X{.var}', 'X.value'],
    ['X{.x,y}', 'X.1024.768'],
    ['X{.list*}', 'X.red.green.blue'],
    ['X{.empty_keys}', 'X'],
    ['{/var}', '/value'],
    ['{/var,x}/here', '/value/1024/here'],
    ['{/list*}', '/red/green/blue'],
    ['{/list*,path:4}', '/red/green/blue/%2Ffoo'],
    ['{/keys*}', '/semi=%3B/dot=./comma=%2C'],
    ['{;x,y}', ';x=1024;y=768'],
    ['{;x,y,empty}', ';x=1024;y=768;empty'],
    ['{;hello:5}', ';hello=Hello'],
    ['{;list*}', ';list=red;list=green;list=blue'],
    ['{;keys*}', ';semi=%3B;dot=.;comma=%2C'],
    ['{?x,y}', '?x=1024&y=768'],
    ['{?x,y,empty}', '?x=1024&y=768&empty='],
    ['{?list}', '?list=red,green,blue'],
    ['{?list*}', '?list=red&list=green&list=blue'],
    ['{?keys*}', '?semi=%3B&dot=.&comma=%2C'],
    ['?fixed=yes{&x}', '?fixed=yes&x=1024'],
    ['{&x,y,empty}', '&x=1024&y=768&empty='],
    ['{&keys*}', '&semi=%3B&dot=.&comma=%2C'],
    ['https://example.com/books/{id}', 'https://example.com/books/1'],
    ['https://example.com/books/{id}', 'https://example.com/books/'],
    ['https://example.com/{+rest}', 'https://example.com/a/b/c?d=e#f'],
    [
      'https://example.com/users/{user}/books/{book}{?format}',
      'https://example.com/users/k%C3%A9vin/books/42?format=json',
    ],
    ['https://example.com/users/{user}', 'https://example.com/users/k\u00e9vin'],
    ['https://example.com/{a.b}/{%41}', 'https://example.com/1/2'],
  ];
  it.each(expansions)('%s matches %s', (template, topic) => {
    const s = tpl(template);
    expect(s.kind).toBe('template');
    expect(s.matches(topic)).toBe(true);
  });

  const misses: [string, string][] = [
    ['{var:3}', 'valu'],
    ['{var}', 'a/b'],
    ['{var}', 'a b'],
    ['{var}', 'a%2'],
    ['{var}', 'a%zz'],
    ['{+path}', 'a b'],
    ['{/var}', 'value'],
    ['{.var}', 'value'],
    ['X{#var}', 'X'.concat('value')],
    ['{?x}', '?y=1'],
    ['{?x}', '?x=1&y=2'],
    ['{?x}', 'x=1'],
    ['{;x}', ';y'],
    ['{&x}', '?x=1'],
    ['{x,y}', '1,2,3/4'],
    ['https://example.com/books/{id}', 'https://example.com/books/1/2'],
    ['https://example.com/books/{id}', 'https://example.com/Books/1'],
    ['https://example.com/books/{id}', 'https://example.com/books/1?x'],
    ['https://example.com/books/{id}', 'http://example.com/books/1'],
    ['https://example.com/books/{id}', 'prefix https://example.com/books/1'],
    ['https://example.com/books/{id}.json', 'https://example.com/books/1'],
  ];
  it.each(misses)('%s does not match %s', (template, topic) => {
    expect(tpl(template).matches(topic)).toBe(false);
  });

  it('keeps a template without expressions as a literal', () => {
    const s = tpl('https://example.com/plain');
    expect(s.matches('https://example.com/plain')).toBe(true);
    expect(s.matches('https://example.com/plainx')).toBe(false);
  });

  const invalid: [string, RegExp][] = [
    ['https://example.com/{', /unclosed expression/],
    ['https://example.com/}', /unmatched "}"/],
    ['{}', /empty expression/],
    ['{a{b}}', /nested "\{"/],
    ['{=x}', /reserved operator "="/],
    ['{,x}', /reserved operator ","/],
    ['{!x}', /reserved operator/],
    ['{@x}', /reserved operator/],
    ['{|x}', /reserved operator/],
    ['{x:0}', /prefix modifier ":0"/],
    ['{x:10000}', /prefix modifier/],
    ['{x:}', /prefix modifier/],
    ['{x:3*}', /invalid variable name/],
    ['{x y}', /invalid variable name "x y"/],
    ['{x,}', /invalid variable name ""/],
    ['{x..y}', /invalid variable name/],
    ['{x-y}', /invalid variable name/],
    ['{%zz}', /invalid variable name/],
    ['{a:9999}', /too complex/],
  ];
  it.each(invalid)('refuses %s', (template, message) => {
    expect(() => tpl(template)).toThrow(MercureSelectorError);
    expect(() => tpl(template)).toThrow(message);
  });

  it('bounds the number of expressions and variables', () => {
    const max = MERCURE_SELECTOR_LIMITS.template.maxExpressions;
    expect(tpl('{a}/'.repeat(max)).matches('x/'.repeat(max))).toBe(true);
    expect(() => tpl('{a}/'.repeat(max + 1))).toThrow(/more than 16 expressions/);
    const vars = Array.from(
      { length: MERCURE_SELECTOR_LIMITS.template.maxVariables + 1 },
      (_, i) => `v${i}`,
    );
    expect(() => tpl(`{${vars.join(',')}}`)).toThrow(/more than 32 variables/);
  });

  it('matches hostile templates in linear time (no backtracking): these return at once', () => {
    // A backtracking matcher would take ~n^16 steps on these; the NFA takes n x states.
    const adjacent = tpl('{a}{b}{c}{d}{e}{f}{g}{h}{i}{j}{k}{l}{m}{n}{o}{p}!');
    const long = 'a'.repeat(MERCURE_SELECTOR_LIMITS.maxLength * 4);
    expect(adjacent.matches(long)).toBe(false);
    expect(adjacent.matches(long + '!')).toBe(true);
    const explode = tpl('{/a*}{/b*}{/c*}{/d*}{?e*}{&f*}{;g*}{.h*}x');
    expect(explode.matches('/a'.repeat(4000) + 'y')).toBe(false);
    const reserved = tpl('{+a}{+b}{+c}{+d}{#e}z');
    expect(reserved.matches('z/'.repeat(4000))).toBe(false);
    expect(reserved.matches('z/'.repeat(4000) + '#z')).toBe(true);
  });
});

describe('URL pattern selectors (WHATWG URLPattern)', () => {
  it('matches named groups per segment', () => {
    const s = pat('https://example.com/books/:id');
    expect(s.kind).toBe('urlpattern');
    expect(s.matches('https://example.com/books/1')).toBe(true);
    expect(s.matches('https://example.com/books/abc')).toBe(true);
    expect(s.matches('https://example.com/books/1/2')).toBe(false);
    expect(s.matches('https://example.com/books/')).toBe(false);
    expect(s.matches('https://example.com/Books/1')).toBe(false);
    expect(s.matches('https://example.org/books/1')).toBe(false);
    expect(s.matches('http://example.com/books/1')).toBe(false);
  });

  it('compares hosts case-insensitively, the rest case-sensitively (ignoreCase off)', () => {
    const s = pat('https://example.com/books/:id');
    expect(s.matches('https://EXAMPLE.com/books/1')).toBe(true);
    expect(pat('https://example.com/Books').matches('https://example.com/books')).toBe(false);
  });

  it('supports regexp groups, wildcards and optional groups', () => {
    const feed = pat('https://example.com/feed/:type(news|alerts)');
    expect(feed.matches('https://example.com/feed/news')).toBe(true);
    expect(feed.matches('https://example.com/feed/alerts')).toBe(true);
    expect(feed.matches('https://example.com/feed/sports')).toBe(false);
    const digits = pat('https://example.com/books/:id(\\d+)');
    expect(digits.matches('https://example.com/books/42')).toBe(true);
    expect(digits.matches('https://example.com/books/4a')).toBe(false);
    const wild = pat('https://example.com/users/*');
    expect(wild.matches('https://example.com/users/1/orders/2')).toBe(true);
    expect(wild.matches('https://example.com/other/1')).toBe(false);
    const optional = pat('https://example.com/items{/:tail}?');
    expect(optional.matches('https://example.com/items')).toBe(true);
    expect(optional.matches('https://example.com/items/x')).toBe(true);
    expect(optional.matches('https://example.com/items/x/y')).toBe(false);
    const repeated = pat('https://example.com/files/:path+');
    expect(repeated.matches('https://example.com/files/a/b/c')).toBe(true);
    expect(repeated.matches('https://example.com/files')).toBe(false);
  });

  it('resolves relative patterns and relative topics against the hub URL', () => {
    const hub = 'https://hub.example.com/.well-known/mercure';
    const s = pat('/.well-known/mercure/subscriptions/:topic/:subscriber', hub);
    expect(s.matches('https://hub.example.com/.well-known/mercure/subscriptions/a/b')).toBe(true);
    expect(s.matches('/.well-known/mercure/subscriptions/a/b')).toBe(true);
    expect(s.matches('https://other.example.com/.well-known/mercure/subscriptions/a/b')).toBe(
      false,
    );
    // Without a hub URL a relative pattern still matches relative topics.
    const rel = pat('/books/:id');
    expect(rel.matches('/books/1')).toBe(true);
    expect(rel.matches('https://example.com/books/1')).toBe(false);
  });

  it('never throws on topics that are not URLs', () => {
    const s = pat('https://example.com/*');
    for (const topic of [
      'chat-room-1234',
      'urn:uuid:e1ee88e2-532a-4d6f-ba70-f0f8bd584022',
      '',
      '::',
      'http://[::1',
      '\u0000',
    ]) {
      expect(s.matches(topic)).toBe(false);
    }
    expect(pat('urn\\:uuid\\:*').matches('urn:uuid:e1ee88e2')).toBe(false); // urn: has no host: not a URL pattern match
  });

  const invalid: [string, RegExp][] = [
    ['https://example.com/:id(', /invalid URL pattern/],
    ['https://example.com/books/:id((a+)+b)', /invalid URL pattern|groups and lookarounds/],
    ['https://example.com/books/:id((?:a+)+b)', /groups and lookarounds/],
    ['https://example.com/books/:id((?=a)a)', /groups and lookarounds/],
    ['https://example.com/books/:id(\\d+\\d+)', /more than one repeating quantifier/],
    ['https://example.com/books/:id(a*a*)', /more than one repeating quantifier/],
    ['https://example.com/books/:id([a-z]+[0-9]{2,})', /more than one repeating quantifier/],
    ['https://example.com/books/:id(\\w{1,50}\\d{1,50})', /more than one repeating quantifier/],
    ['https://example.com/*a*a*a', /too ambiguous/],
    ['https://example.com/*/*/:id', /too ambiguous/],
    ['https://example.com/:a-:b-:c-:d', /too ambiguous/],
    ['https://example.com/:a(.*)-:b(.*)-:c(.*)', /too ambiguous/],
    ['https://example.com/:id(\\d+)+', /repeat modifier/],
    ['https://example.com/{x:a}+', /repeated group/],
    ['https://example.com/?q=:a*', /repeat modifier/],
    ['https://example.com/?:a:b:c', /too ambiguous/],
    ['https://example.com/books/:id([a-z)', /invalid URL pattern|unclosed character class/],
    [
      'https://example.com/x{/a}?{/b}?{/c}?{/d}?{/e}?{/f}?{/g}?{/h}?{/i}?',
      /more than 8 optional parts/,
    ],
  ];
  it.each(invalid)('refuses %s', (raw, message) => {
    expect(() => pat(raw)).toThrow(MercureSelectorError);
    expect(() => pat(raw)).toThrow(message);
  });

  it('bounds the number of variable parts', () => {
    const names = Array.from(
      { length: MERCURE_SELECTOR_LIMITS.urlpattern.maxParts },
      (_, i) => `/:p${i}`,
    );
    const ok = 'https://example.com' + names.join('');
    expect(pat(ok).matches('https://example.com' + '/x'.repeat(16))).toBe(true);
    expect(() => pat(ok + '/:last')).toThrow(/more than 16 variable parts/);
  });

  it('accepts the most ambiguous allowed patterns and matches adversarial topics promptly', () => {
    // Degree-2 patterns cost ~n^2 steps at worst: these calls must return (the test timeout bounds them).
    const long = 'a'.repeat(MERCURE_SELECTOR_LIMITS.maxLength);
    const cases: [string, string][] = [
      ['https://example.com/*a*b', `https://example.com/${long}`],
      ['https://example.com/*/:id', `https://example.com/${'a/'.repeat(1000)}`],
      ['https://example.com/:a-:b-:c', `https://example.com/${'-'.repeat(2000)}/`],
      ['https://example.com/:a(\\w+)x:b', `https://example.com/${long}`],
      ['https://example.com/?q=:a&r=:b', `https://example.com/?q=${'&'.repeat(2000)}`],
    ];
    for (const [raw, topic] of cases) expect(pat(raw).matches(topic)).toBe(false);
  });
});

describe('URL pattern fast path', () => {
  // Simple patterns skip the polyfill's per-call parsing; they must decide exactly as it does.
  const base = 'https://hub.example.com/.well-known/mercure';
  const patterns = [
    'https://example.com/books/:id',
    'https://example.com/books/:id.json',
    'https://example.com/books/:id/reviews/:review',
    'https://EXAMPLE.com/caf\u00e9/:x',
    'https://example.com:8443/a/:b',
    'http://example.com/a/:b',
    'https://example.com/a/:b?format=json',
    'https://example.com/a/:b#top',
    'https://user:pw@example.com/a/:b',
    '/.well-known/mercure/subscriptions/:topic/:sub',
    '/books/:id',
    'urn\\:uuid\\:*',
    'https://example.com/a/:b(\\d+)',
    'https://example.com/a/:b?',
    'https://example.com/a/*',
    'https://*.example.com/a/:b',
    'https://example.com/a/:b+',
  ];
  const topics = [
    'https://example.com/books/1',
    'https://example.com/books/1.json',
    'https://example.com/books/.json',
    'https://example.com/books/1/reviews/2',
    'https://example.com/books/1/reviews/',
    'https://example.com/books/1?x=1',
    'https://example.com/books/1#h',
    'https://EXAMPLE.COM/books/1',
    'https://example.com/caf\u00e9/1',
    'https://example.com/caf%C3%A9/1',
    'https://example.com:8443/a/1',
    'https://example.com:443/a/1',
    'http://example.com/a/1',
    'http://example.com:80/a/1',
    'https://example.com/a/1?format=json',
    'https://example.com/a/1?format=xml',
    'https://example.com/a/1#top',
    'https://user:pw@example.com/a/1',
    'https://hub.example.com/.well-known/mercure/subscriptions/a/b',
    '/.well-known/mercure/subscriptions/a/b',
    '/books/1',
    'books/1',
    '../books/1',
    'urn:uuid:1234',
    'https://a.example.com/a/1',
    'https://example.com/a/1/2',
    'https://example.com/a/12',
    'chat-room',
    '',
    'http://[::1',
    'https://example.com/a/%2F',
    'https://example.com/a/b%20c',
    'https://example.com/a/b c',
    'https://example.com/a/\u{1f600}',
  ];
  it.each(patterns)('%s decides as the URLPattern polyfill does', (raw) => {
    const fast = compileUrlPattern(raw, base);
    const slow = compileUrlPattern(raw, base, { fastPath: false });
    for (const topic of topics) expect([topic, fast(topic)]).toEqual([topic, slow(topic)]);
  });
});

describe('legacySelector (Mercure 0.x topic=)', () => {
  it('reads * as every topic, braces as a URI template, anything else as an exact topic', () => {
    const any = legacySelector('*');
    expect(any.matches('whatever')).toBe(true);
    const t = legacySelector('https://example.com/books/{id}');
    expect(t.kind).toBe('template');
    expect(t.matches('https://example.com/books/1')).toBe(true);
    expect(t.matches('https://example.com/books/{id}')).toBe(false);
    const e = legacySelector('https://example.com/books/1');
    expect(e.kind).toBe('exact');
    expect(e.matches('https://example.com/books/1')).toBe(true);
    expect(e.matches('https://example.com/books/2')).toBe(false);
  });

  it('refuses malformed templates instead of guessing', () => {
    expect(() => legacySelector('https://example.com/books/{id')).toThrow(/unclosed expression/);
    expect(() => legacySelector('https://example.com/}')).toThrow(MercureSelectorError);
  });
});

describe('SelectorIndex', () => {
  it('finds exact, template and URL pattern subscribers of a topic and its alternates', () => {
    const index = new SelectorIndex<string>();
    index.add(compileSelector('https://example.com/books/1', 'exact'), 'exact-1');
    index.add(compileSelector('https://example.com/books/2', 'exact'), 'exact-2');
    index.add(tpl('https://example.com/books/{id}'), 'template');
    index.add(pat('https://example.com/books/:id(\\d+)'), 'pattern');
    index.add(compileSelector('*', 'exact'), 'all');
    expect(index.size).toBe(5);
    expect(index.patternCount).toBe(3);
    expect([...index.match(['https://example.com/books/1'])].sort()).toEqual([
      'all',
      'exact-1',
      'pattern',
      'template',
    ]);
    expect([...index.match(['https://example.com/books/x'])].sort()).toEqual(['all', 'template']);
    expect([...index.match(['nothing'])]).toEqual(['all']);
    expect([...index.match(['nothing', 'https://example.com/books/2'])].sort()).toEqual([
      'all',
      'exact-2',
      'pattern',
      'template',
    ]);
    expect([...index.match([])]).toEqual([]);
  });

  it('puts literal templates in the exact map and tests identical patterns once', () => {
    const index = new SelectorIndex<number>();
    index.add(tpl('https://example.com/plain'), 1);
    expect(index.patternCount).toBe(0);
    let calls = 0;
    const counting: MercureSelector = {
      kind: 'urlpattern',
      raw: 'https://example.com/:x',
      matches: () => {
        calls++;
        return true;
      },
    };
    for (let i = 2; i < 102; i++) index.add(counting, i);
    expect(index.patternCount).toBe(1);
    expect(index.match(['https://example.com/plain']).size).toBe(101);
    expect(calls).toBe(1);
  });

  it('counts duplicate registrations and removes them one at a time', () => {
    const index = new SelectorIndex<string>();
    const e = compileSelector('a', 'exact');
    const p = tpl('{x}');
    index.add(e, 's');
    index.add(e, 's');
    index.add(p, 's');
    index.add(p, 't');
    expect(index.size).toBe(4);
    index.remove(e, 's');
    expect(index.match(['a']).has('s')).toBe(true);
    index.remove(e, 's');
    expect(index.size).toBe(2);
    index.remove(e, 's'); // not registered any more: a no-op
    index.remove(compileSelector('zzz', 'exact'), 's');
    expect(index.size).toBe(2);
    expect([...index.match(['a'])].sort()).toEqual(['s', 't']); // via the template
    index.remove(tpl('{x}'), 's'); // an equal selector compiled again removes it too
    expect([...index.match(['a'])]).toEqual(['t']);
    index.remove(p, 't');
    expect(index.size).toBe(0);
    expect(index.patternCount).toBe(0);
    expect(index.match(['a']).size).toBe(0);
  });

  it('treats hand-made selectors by kind: exact ones by Map lookup', () => {
    const index = new SelectorIndex<string>();
    index.add({ kind: 'exact', raw: 'k', matches: () => false }, 'v');
    expect([...index.match(['k'])]).toEqual(['v']);
    index.add({ kind: 'exact', raw: '*', matches: () => true }, 'w');
    expect(index.patternCount).toBe(1);
    expect([...index.match(['z'])]).toEqual(['w']);
  });

  it('visits with forEachMatch exactly what match returns, once each, from a snapshot', () => {
    const index = new SelectorIndex<string>();
    const a = compileSelector('a', 'exact');
    for (const v of ['s', 't', 'u']) index.add(a, v);
    index.add(a, 's'); // a second registration of the same value: still one visit
    index.add(compileSelector('b', 'exact'), 's');
    const seen = (topics: string[]): string[] => {
      const out: string[] = [];
      index.forEachMatch(topics, (v) => out.push(v));
      return out.sort();
    };
    expect(seen(['a'])).toEqual(['s', 't', 'u']);
    expect(seen(['a', 'b'])).toEqual([...index.match(['a', 'b'])].sort()); // s once, not twice
    expect(seen(['a', 'b'])).toEqual(['s', 't', 'u']);
    expect(seen(['zzz'])).toEqual([]);
    // Removing or adding values while visiting changes the next round only.
    const visited: string[] = [];
    index.forEachMatch(['a'], (v) => {
      visited.push(v);
      if (v === 's') {
        index.remove(a, 't');
        index.add(a, 'late');
      }
    });
    expect(visited.sort()).toEqual(['s', 't', 'u']);
    expect(seen(['a'])).toEqual(['late', 's', 'u']);
    // With a pattern registered too, the Set of match() dedupes across selectors.
    index.add(tpl('{x}'), 'u');
    index.add(tpl('{x}'), 'p');
    expect(seen(['a'])).toEqual(['late', 'p', 's', 'u']);
  });
});
