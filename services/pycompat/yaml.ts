// PyYAML's yaml.safe_load(text), on the `yaml` package's parser. The syntax
// is parsed by `yaml`; what the nodes become is PyYAML's own YAML 1.1 rules,
// done here (the `yaml` package's 1.1 schema resolves differently):
//
// * plain scalars resolve by PyYAML's regexes: yes/no/on/off are booleans,
//   0777 is octal, 1:30 is 90 (base 60), 1e3 is a string (a float needs a
//   dot), 2024-01-15 is a datetime.date (an invalid date is a ValueError),
//   "=" and "<<" outside a key are errors;
// * explicit tags: the safe ones (!!str, !!int, !!set, !!binary, !!omap...);
//   any other (!foo, !!python/...) is a ConstructorError;
// * dict keys that are not strings (1, true, null, dates) stay distinct from
//   string keys (objects.ts), equal keys (1, 1.0, true) merge;
// * merge keys (<<) as PyYAML 6.0.4's flatten_mapping does them;
// * the stream must hold one document; characters PyYAML's reader refuses
//   (C0 controls, DEL, U+FFFE/U+FFFF, lone surrogates) are a ReaderError; NEL,
//   LS and PS are line breaks (YAML 1.1).
import { CST, isAlias, isMap, isScalar, isSeq, Lexer, parseAllDocuments, visit, type Document, type Node, type Pair } from "yaml";
import { pyFloatFromString, pyIntFromString, PyValueError } from "./numbers.js";
import { pyKeyRepr, pyNonStrKey, PyOpaqueFactory, setOwn, type PyOpaque } from "./objects.js";
import { pyRepr } from "./repr.js";
import { pyReprString } from "./str.js";

/** A PyYAML error; `name` is the Python exception type (ScannerError, ConstructorError, ValueError...). */
export class PyYamlError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const TAG = "tag:yaml.org,2002:";
const NON_PRINTABLE = /[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

// PyYAML's implicit resolvers (resolver.py), tried in this order for the
// scalar's first character.
const RESOLVERS: [tag: string, re: RegExp, first: string][] = [
  ["bool", /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/, "yYnNtTfFoO"],
  ["float", /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/, "-+0123456789."],
  ["int", /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/, "-+0123456789"],
  ["merge", /^(?:<<)$/, "<"],
  ["null", /^(?:~|null|Null|NULL|)$/, "~nN"],
  ["timestamp", /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/, "0123456789"],
  ["value", /^(?:=)$/, "="],
];

/** The tag PyYAML's resolver gives a plain scalar. */
function implicitTag(value: string): string {
  if (value === "") return `${TAG}null`;
  for (const [tag, re, first] of RESOLVERS) if (first.includes(value[0]!) && re.test(value)) return TAG + tag;
  return `${TAG}str`;
}

/** yaml.safe_load(text). Throws PyYamlError (or PyValueError) where PyYAML raises. */
export function pySafeLoad(text: string): unknown {
  const bad = NON_PRINTABLE.exec(text);
  if (bad) {
    const cp = bad[0].codePointAt(0)!;
    throw new PyYamlError("ReaderError", `unacceptable character #x${cp.toString(16).padStart(4, "0")}: special characters are not allowed`);
  }
  // YAML 1.1 line breaks the `yaml` package (YAML 1.2) reads as content.
  const source = text.replace(/[\x85\u2028\u2029]/g, "\n");
  checkPyYamlSyntax(source);
  const parsed = parseAllDocuments(source, { version: "1.1", schema: "failsafe", uniqueKeys: false, merge: false, prettyErrors: false });
  // A stray "..." after a document end opens no document for PyYAML.
  const docs = (Array.isArray(parsed) ? parsed : []).filter((doc, i) => i === 0 || doc.directives.docStart || !isEmptyScalar(doc.contents));
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error) throw new PyYamlError("ScannerError", error.message);
  }
  if (docs.length > 1) throw new PyYamlError("ComposerError", "expected a single document in the stream\nbut found another document");
  if (docs.length === 0) return null;
  checkAnchors(docs[0]!);
  return new Constructor(docs[0]!).construct(docs[0]!.contents);
}

function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.type === "PLAIN" && !node.tag && !node.anchor && String(node.source ?? "") === "";
}

/**
 * What PyYAML refuses and the `yaml` package accepts, found on the `yaml`
 * lexer's tokens: a tab anywhere but inside a quoted scalar, a block scalar
 * or a comment (PyYAML skips only spaces between tokens and ends a plain
 * scalar at a tab), a leading "...", and a %YAML directive of another major
 * version or given twice.
 */
function checkPyYamlSyntax(source: string): void {
  let afterHeader = false;
  let scalar: "plain" | "block" | null = null;
  let content = false;
  let yamlDirectives = 0;
  let prev: string | null = "doc-mode";
  let explicitKey = false;
  for (const token of new Lexer().lex(source)) {
    const type = CST.tokenType(token);
    if (type === "explicit-key-ind") explicitKey = true;
    if (type === "map-value-ind") {
      // A ":" with no key before it (not after "? "): PyYAML expects a node there.
      if (!explicitKey && prev !== null && ["doc-mode", "doc-start", "newline", "seq-item-ind", "flow-map-start", "flow-seq-start", "comma"].includes(prev)) {
        throw new PyYamlError("ParserError", "while parsing a block mapping\nexpected <block end>, but found ':'");
      }
      explicitKey = false;
    }
    if (type !== "space" && type !== "comment") prev = type;
    if (scalar) {
      // The token after a scalar marker is the scalar's text.
      if (scalar === "plain" && token.includes("\t")) throw tabError();
      scalar = null;
      content = true;
      continue;
    }
    if (type === "block-scalar-header") afterHeader = true;
    else if (type === "scalar") {
      scalar = afterHeader ? "block" : "plain";
      afterHeader = false;
    } else if (type === "space" && token.includes("\t")) throw tabError();
    else if (type === "doc-end" && !content) {
      throw new PyYamlError("ParserError", "while parsing a block node\nexpected the node content, but found '<document end>'");
    } else if (type === "directive-line") {
      const m = /^%YAML[ \t]+([0-9]+)\./.exec(token);
      if (m && Number(m[1]) !== 1) throw new PyYamlError("ParserError", "found incompatible YAML document (version 1.* is required)");
      if (m && ++yamlDirectives > 1) throw new PyYamlError("ParserError", "found duplicate YAML directive");
    }
    if (type !== null && !["doc-mode", "space", "newline", "comment", "byte-order-mark", "directive-line", "doc-end"].includes(type)) content = true;
  }
}

function tabError(): PyYamlError {
  return new PyYamlError("ScannerError", "while scanning for the next token\nfound character '\\t' that cannot start any token");
}

/** PyYAML's composer refuses an anchor name used twice in a document. */
function checkAnchors(doc: Document): void {
  const seen = new Set<string>();
  visit(doc, (_key, node) => {
    const anchor = (node as { anchor?: string } | null)?.anchor;
    if (!anchor) return;
    if (seen.has(anchor)) throw new PyYamlError("ComposerError", `found duplicate anchor ${pyReprString(anchor)}; first occurrence\nsecond occurrence`);
    seen.add(anchor);
  });
}

type Value = unknown;

/** PyYAML's SafeConstructor over one document's nodes. */
class Constructor {
  private readonly objects = new PyOpaqueFactory();
  /** constructed_objects: an alias gives the very object its anchor made. */
  private readonly done = new Map<Node, Value>();

  constructor(private readonly doc: Document) {}

  construct(node: Node | null | undefined): Value {
    if (node === null || node === undefined) return null; // an empty node is the plain scalar "" (null)
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      if (!target) throw new PyYamlError("ComposerError", `found undefined alias '${node.source}'`);
      return this.construct(target as Node);
    }
    if (this.done.has(node)) return this.done.get(node);
    const tag = this.tagOf(node);
    if (isScalar(node)) {
      const value = this.scalar(tag, String(node.source ?? ""));
      this.done.set(node, value);
      return value;
    }
    if (isSeq(node)) return this.sequence(tag, node.items as Node[], node);
    if (isMap(node)) return this.mapping(tag, node.items as Pair<Node, Node>[], node);
    throw new PyYamlError("ConstructorError", "unexpected node");
  }

  /** The node's tag as PyYAML's composer sets it: explicit, else resolved ("!" resolves too). */
  private tagOf(node: Node): string {
    const explicit = (node as { tag?: string }).tag;
    if (explicit && explicit !== "!") return explicit;
    if (isScalar(node)) {
      // A quoted scalar is a str, unless tagged "!", which PyYAML resolves like a plain one.
      return node.type === "PLAIN" || explicit === "!" ? implicitTag(String(node.source ?? "")) : `${TAG}str`;
    }
    return isSeq(node) ? `${TAG}seq` : `${TAG}map`;
  }

  private undefinedTag(tag: string): never {
    throw new PyYamlError("ConstructorError", `could not determine a constructor for the tag ${pyReprString(tag)}`);
  }

  private scalar(tag: string, value: string): Value {
    switch (tag) {
      case `${TAG}str`:
        return value;
      case `${TAG}null`:
        return null;
      case `${TAG}bool`: {
        const v = ({ yes: true, no: false, true: true, false: false, on: true, off: false } as Record<string, boolean>)[value.toLowerCase()];
        if (v === undefined) throw new PyYamlError("KeyError", pyReprString(value.toLowerCase()));
        return v;
      }
      case `${TAG}int`:
        return yamlInt(value);
      case `${TAG}float`:
        return yamlFloat(value);
      case `${TAG}timestamp`:
        return this.timestamp(value);
      case `${TAG}binary`:
        return this.binary(value);
      case `${TAG}seq`:
      case `${TAG}omap`:
      case `${TAG}pairs`:
        throw new PyYamlError("ConstructorError", `expected a sequence, but found scalar`);
      case `${TAG}map`:
      case `${TAG}set`:
        throw new PyYamlError("ConstructorError", "expected a mapping node, but found scalar");
      default:
        return this.undefinedTag(tag);
    }
  }

  private sequence(tag: string, items: Node[], node: Node): Value {
    if (tag === `${TAG}seq`) {
      const list: Value[] = [];
      this.done.set(node, list); // registered first: a recursive alias gets the list itself, as in Python
      for (const item of items) list.push(this.construct(item));
      return list;
    }
    if (tag === `${TAG}omap` || tag === `${TAG}pairs`) {
      const list: Value[] = [];
      this.done.set(node, list);
      for (const item of items) {
        if (!isMap(item)) throw new PyYamlError("ConstructorError", `while constructing ${tag === `${TAG}omap` ? "an ordered map" : "pairs"}\nexpected a mapping of length 1`);
        if (item.items.length !== 1) throw new PyYamlError("ConstructorError", `expected a single mapping item, but found ${item.items.length} items`);
        const pair = item.items[0] as Pair<Node, Node>;
        const k = this.construct(pair.key);
        const v = this.construct(pair.value);
        list.push(this.objects.make("tuple", `(${reprValue(k)}, ${reprValue(v)})`));
      }
      return list;
    }
    if (tag === `${TAG}str` || tag === `${TAG}int` || tag === `${TAG}float` || tag === `${TAG}bool` || tag === `${TAG}null` || tag === `${TAG}timestamp` || tag === `${TAG}binary`) {
      throw new PyYamlError("ConstructorError", "expected a scalar node, but found sequence");
    }
    if (tag === `${TAG}map` || tag === `${TAG}set`) throw new PyYamlError("ConstructorError", "expected a mapping node, but found sequence");
    return this.undefinedTag(tag);
  }

  private mapping(tag: string, pairs: Pair<Node, Node>[], node: Node): Value {
    if (tag === `${TAG}map` || tag === `${TAG}set`) {
      const entries = this.flatten(pairs);
      if (tag === `${TAG}map`) {
        const dict: Record<string, Value> = {};
        this.done.set(node, dict);
        const keys = new Map<string, string>();
        for (const [k, v] of entries) setOwn(dict, this.dictKey(k, keys), this.construct(v));
        return dict;
      }
      const keys = new Map<string, string>();
      for (const [k] of entries) this.dictKey(k, keys);
      const members = [...keys.values()].map((k) => pyKeyRepr(k, pyReprString));
      return this.objects.make("set", members.length ? `{${members.join(", ")}}` : "set()", [...keys.keys()].sort().join("\u0001"));
    }
    if (tag === `${TAG}str` || tag === `${TAG}int` || tag === `${TAG}float` || tag === `${TAG}bool` || tag === `${TAG}null` || tag === `${TAG}timestamp` || tag === `${TAG}binary`) {
      throw new PyYamlError("ConstructorError", "expected a scalar node, but found mapping");
    }
    if (tag === `${TAG}seq` || tag === `${TAG}omap` || tag === `${TAG}pairs`) throw new PyYamlError("ConstructorError", "expected a sequence, but found mapping");
    return this.undefinedTag(tag);
  }

  /**
   * SafeConstructor.flatten_mapping: merge keys (<<) pull in the pairs of a
   * mapping or a list of mappings, ahead of the mapping's own pairs. Among
   * merged pairs PyYAML 6.0.4 keeps one per key *object* (id() of the key's
   * str): the same aliased node, or equal one-character keys, which CPython
   * shares; other equal keys are all kept and the last one wins.
   */
  private flatten(pairs: Pair<Node, Node>[]): [Node | null, Node | null][] {
    const own: [Node | null, Node | null][] = [];
    const merged: [Node | null, Node | null][] = [];
    const seen = new Set<unknown>();
    const take = (from: [Node | null, Node | null][]) => {
      for (const pair of from) {
        const id = keyIdentity(pair[0]);
        if (seen.has(id)) continue;
        seen.add(id);
        merged.push(pair);
      }
    };
    for (const pair of pairs) {
      const key = (pair.key ?? null) as Node | null;
      const value = (pair.value ?? null) as Node | null;
      if (key && this.tagOf(this.deref(key)) === `${TAG}merge`) {
        const target = value ? this.deref(value) : null;
        if (target && isMap(target)) take(this.flatten(target.items as Pair<Node, Node>[]));
        else if (target && isSeq(target)) {
          for (const sub of target.items as Node[]) {
            const m = this.deref(sub);
            if (!isMap(m)) throw new PyYamlError("ConstructorError", "while constructing a mapping\nexpected a mapping for merging");
            take(this.flatten(m.items as Pair<Node, Node>[]));
          }
        } else throw new PyYamlError("ConstructorError", "while constructing a mapping\nexpected a mapping or list of mappings for merging");
      } else own.push([key, value]);
    }
    return [...merged, ...own];
  }

  private deref(node: Node): Node {
    if (!isAlias(node)) return node;
    const target = node.resolve(this.doc);
    if (!target) throw new PyYamlError("ComposerError", `found undefined alias '${node.source}'`);
    return target as Node;
  }

  /** The JS key of a dict key; `keys` maps Python-equal keys to the first one's JS key. */
  private dictKey(keyNode: Node | null, keys: Map<string, string>): string {
    // A merge key in a key position is a str "=" for PyYAML's value tag; any other key is built normally.
    const node = keyNode ? this.deref(keyNode) : null;
    let key: Value;
    if (node && isScalar(node) && this.tagOf(node) === `${TAG}value`) key = String(node.source ?? "");
    else key = this.construct(keyNode);
    if (Array.isArray(key) || (typeof key === "object" && key !== null) || (typeof key === "function" && (key as PyOpaque).pyOpaqueKind === "set")) {
      throw new PyYamlError("ConstructorError", "while constructing a mapping\nfound unhashable key");
    }
    const hash = keyHash(key);
    let js = keys.get(hash);
    if (js === undefined) {
      js = typeof key === "string" ? key : pyNonStrKey(pyTypeName(key), reprValue(key));
      keys.set(hash, js);
    }
    return js;
  }

  private timestamp(value: string): Value {
    const m = /^([0-9]{4})-([0-9][0-9]?)-([0-9][0-9]?)(?:(?:[Tt]|[ \t]+)([0-9][0-9]?):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9][0-9]?)(?::([0-9]{2}))?))?)?$/.exec(value);
    if (!m) throw new PyYamlError("AttributeError", "'NoneType' object has no attribute 'groupdict'");
    const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    checkDate(year, month, day);
    const date = `${year}, ${month}, ${day}`;
    if (m[4] === undefined) return this.objects.make("date", `datetime.date(${date})`);
    const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6])];
    if (hour > 23) throw new PyValueError("hour must be in 0..23");
    if (minute > 59) throw new PyValueError("minute must be in 0..59");
    if (second > 59) throw new PyValueError("second must be in 0..59");
    const micro = m[7] ? Number(m[7].slice(0, 6).padEnd(6, "0")) : 0;
    let tz = "";
    let offsetMinutes: number | null = null;
    if (m[9]) {
      offsetMinutes = (m[9] === "-" ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11] ?? 0));
      if (Math.abs(offsetMinutes) >= 24 * 60) throw new PyValueError("offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24).");
      tz = offsetMinutes === 0 ? ", tzinfo=datetime.timezone.utc" : `, tzinfo=datetime.timezone(${timedeltaRepr(offsetMinutes)})`;
    } else if (m[8]) {
      offsetMinutes = 0;
      tz = ", tzinfo=datetime.timezone.utc";
    }
    const fields = [hour, minute, ...(second || micro ? [second] : []), ...(micro ? [micro] : [])].join(", ");
    const repr = `datetime.datetime(${date}, ${fields}${tz})`;
    // Aware datetimes are equal when they are the same instant; naive ones never equal aware ones.
    const identity = offsetMinutes === null ? `naive ${date} ${hour}:${minute}:${second}.${micro}` : `aware ${Date.UTC(year, month - 1, day, hour, minute - offsetMinutes, second) * 1000 + micro}`;
    return this.objects.make("datetime", repr, identity);
  }

  private binary(value: string): Value {
    if (/[^\x00-\x7f]/.test(value)) throw new PyYamlError("ConstructorError", "failed to convert base64 data into ascii");
    return this.objects.make("bytes", bytesRepr(base64DecodeBytes(value)));
  }
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** base64.decodebytes (binascii.a2b_base64, not strict): skips other characters, stops at complete padding. */
function base64DecodeBytes(text: string): Uint8Array {
  const out: number[] = [];
  let quad = 0;
  let pads = 0;
  let left = 0;
  let count = 0;
  for (const ch of text) {
    if (ch === "=") {
      if (quad >= 2 && quad + ++pads >= 4) return Uint8Array.from(out);
      continue;
    }
    const v = B64.indexOf(ch);
    if (v < 0) continue;
    count++;
    pads = 0;
    if (quad === 0) left = v;
    else if (quad === 1) out.push(((left << 2) | (v >> 4)) & 0xff), (left = v & 0x0f);
    else if (quad === 2) out.push(((left << 4) | (v >> 2)) & 0xff), (left = v & 0x03);
    else out.push(((left << 6) | v) & 0xff);
    quad = (quad + 1) % 4;
  }
  if (quad === 1) throw new PyYamlError("ConstructorError", `failed to decode base64 data: Invalid base64-encoded string: number of data characters (${count}) cannot be 1 more than a multiple of 4`);
  if (quad !== 0) throw new PyYamlError("ConstructorError", "failed to decode base64 data: Incorrect padding");
  return Uint8Array.from(out);
}

/** id() of a merged key's str, as far as it can be known: one node, or CPython's shared 1-character strings. */
function keyIdentity(key: Node | null): unknown {
  if (key && isScalar(key)) {
    const s = String(key.source ?? "");
    if (s.length === 0 || (s.length === 1 && s.charCodeAt(0) < 256)) return `shared:${s}`;
  }
  return key;
}

let nanKeys = 0;

/** The hash class of a dict key: Python-equal keys (1, 1.0, True) share one. */
function keyHash(key: Value): string {
  if (typeof key === "string") return `s:${key}`;
  if (typeof key === "boolean") return `n:${key ? 1 : 0}`;
  // Each NaN PyYAML makes is its own float object, so NaN keys never merge.
  if (typeof key === "number") return Number.isNaN(key) ? `nan:${++nanKeys}` : `n:${key === 0 ? 0 : key}`;
  if (key === null) return "none";
  return `o:${String(key)}`; // opaque: one object per value, its repr names it
}

function pyTypeName(v: Value): string {
  if (v === null) return "NoneType";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  return (v as PyOpaque).pyOpaqueKind;
}

function reprValue(v: Value): string {
  return pyRepr(v);
}

function checkDate(year: number, month: number, day: number): void {
  if (year < 1) throw new PyValueError(`year ${year} is out of range`);
  if (month < 1 || month > 12) throw new PyValueError("month must be in 1..12");
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  if (day < 1 || day > days) throw new PyValueError("day is out of range for month");
}

function timedeltaRepr(minutes: number): string {
  // timedelta normalises to days + seconds in [0, 86400): -1 hour is days=-1, seconds=82800.
  const days = Math.floor((minutes * 60) / 86400);
  const seconds = minutes * 60 - days * 86400;
  const parts = [...(days ? [`days=${days}`] : []), ...(seconds ? [`seconds=${seconds}`] : [])];
  return `datetime.timedelta(${parts.join(", ")})`;
}

function bytesRepr(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) {
    if (b === 0x5c) s += "\\\\";
    else if (b === 0x27) s += "\\'";
    else if (b === 0x0a) s += "\\n";
    else if (b === 0x0d) s += "\\r";
    else if (b === 0x09) s += "\\t";
    else if (b < 0x20 || b >= 0x7f) s += `\\x${b.toString(16).padStart(2, "0")}`;
    else s += String.fromCharCode(b);
  }
  return `b'${s}'`;
}

/** construct_yaml_int: PyYAML's own reading of an int scalar (after the regex, or forced by !!int). */
function yamlInt(raw: string): number {
  let value = raw.replace(/_/g, "");
  if (value === "") throw new PyYamlError("IndexError", "string index out of range");
  const sign = value[0] === "-" ? -1 : 1;
  if ("+-".includes(value[0]!)) value = value.slice(1);
  if (value === "0") return 0;
  if (value.startsWith("0b")) return sign * pyIntBase(value.slice(2), 2);
  if (value.startsWith("0x")) return sign * pyIntBase(value.slice(2), 16);
  if (value[0] === "0") return sign * pyIntBase(value, 8);
  if (value.includes(":")) return sign * sexagesimal(value, pyIntFromString);
  return sign * pyIntFromString(value);
}

/** int(s, base) for base 2, 8 or 16 (its own prefix allowed, as Python allows it). */
function pyIntBase(s: string, base: 2 | 8 | 16): number {
  const digits = { 2: "[01]", 8: "[0-7]", 16: "[0-9a-fA-F]" }[base];
  const prefix = { 2: "0[bB]", 8: "0[oO]", 16: "0[xX]" }[base];
  const m = new RegExp(`^\\s*([+-]?)(?:${prefix})?_?(${digits}(?:_?${digits})*)\\s*$`).exec(s);
  if (!m) throw new PyValueError(`invalid literal for int() with base ${base}: ${pyReprString(s)}`);
  return (m[1] === "-" ? -1 : 1) * parseInt(m[2]!.replace(/_/g, ""), base);
}

/** 1:30:05 in base 60, summed from the last part up as PyYAML does (same float rounding). */
function sexagesimal(value: string, part: (s: string) => number): number {
  let base = 1;
  let n = 0;
  for (const digit of value.split(":").map(part).reverse()) {
    n += digit * base;
    base *= 60;
  }
  return n;
}

/** construct_yaml_float. */
function yamlFloat(raw: string): number {
  let value = raw.replace(/_/g, "").toLowerCase();
  if (value === "") throw new PyYamlError("IndexError", "string index out of range");
  const sign = value[0] === "-" ? -1 : 1;
  if ("+-".includes(value[0]!)) value = value.slice(1);
  if (value === ".inf") return sign * Infinity;
  if (value === ".nan") return NaN;
  if (value.includes(":")) return sign * sexagesimal(value, pyFloatFromString);
  return sign * pyFloatFromString(value);
}
