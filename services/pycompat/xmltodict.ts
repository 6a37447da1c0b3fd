// xmltodict.parse(text) (xmltodict 1.0.2 on Python's expat) with its default
// options, on the saxes parser (a conformant, non-validating XML 1.0 parser,
// strict like expat). The dict shape is xmltodict's:
//
// * {root: ...}; an element with neither attributes nor children is its text
//   (stripped, None when empty); otherwise a dict of "@attr" values, child
//   elements and "#text";
// * a child element seen twice becomes a list; all values are strings;
// * comments and processing instructions are dropped; CDATA is text;
// * no namespace processing: "xmlns:x" is an attribute, "x:tag" a name;
// * an <!ENTITY> declaration is refused ("entities are disabled"), as
//   xmltodict's disable_entities does.
//
// Well-formedness errors are ExpatError here as in Python; their messages are
// saxes' (expat's own wording is "not well-formed (invalid token): line 1,
// column 5"), the verdict is the same.
import { SaxesParser } from "saxes";
import { pyStrip } from "./str.js";
import { setOwn } from "./objects.js";

/** An error xmltodict.parse raises; `name` is the Python type (ExpatError, ValueError, UnicodeEncodeError). */
export class PyXmlError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

type Item = Record<string, unknown> | null;

const XML_NAME = /^[:A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}][-.0-9:A-Z_a-z\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C\u200D\u203F\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}]*$/u;

interface Frame {
  item: Item;
  data: string[];
}

/** xmltodict.parse(text): the root element's name mapped to its value. */
export function pyXmltodictParse(text: string): unknown {
  // Python encodes the str to UTF-8 first, which a lone surrogate cannot be.
  if (/(?:[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff])/.test(text)) {
    throw new PyXmlError("UnicodeEncodeError", "'utf-8' codec can't encode character: surrogates not allowed");
  }
  const parser = new SaxesParser({ xmlns: false, position: true });
  // _DictSAXHandler's state: the open elements' items and character data.
  const stack: Frame[] = [];
  let item: Item = null;
  let data: string[] = [];
  let depth = 0;
  let result: Item = null;

  // Expat skips an undefined entity when the document may declare it elsewhere
  // (an external DTD or parameter entities) and is not standalone.
  let entitiesMayBeExternal = false;
  const standalone = /^\ufeff?<\?xml[^>]*\sstandalone\s*=\s*["']yes["']/.test(text);
  parser.on("error", (err) => {
    throw new PyXmlError("ExpatError", err.message);
  });
  parser.on("doctype", (doctype) => {
    if (/<!ENTITY/.test(doctype)) throw new PyXmlError("ValueError", "entities are disabled");
    entitiesMayBeExternal = /^\s*\S+\s+(?:SYSTEM|PUBLIC)\b/.test(doctype) || /%[^\s;%]+;/.test(doctype);
    if (entitiesMayBeExternal && !standalone) {
      // Such an entity is skipped: it adds no text.
      const known = parser.ENTITIES;
      parser.ENTITIES = new Proxy(known, { get: (target, name) => (typeof name === "string" && !(name in target) && XML_NAME.test(name) ? "" : target[name as string]) });
    }
  });
  parser.on("opentag", (tag) => {
    depth++;
    stack.push({ item, data });
    const attrs: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(tag.attributes)) setOwn(attrs, `@${name}`, value);
    item = Object.keys(attrs).length ? attrs : null;
    data = [];
  });
  const characters = (text: string) => {
    if (depth > 0) data.push(text);
  };
  parser.on("text", characters);
  parser.on("cdata", characters);
  parser.on("closetag", (tag) => {
    depth--;
    const joined = data.length ? data.join("") : null;
    const text = joined ? pyStrip(joined) || null : joined;
    const own = item;
    ({ item, data } = stack.pop()!);
    if (own !== null) {
      if (text) pushData(own, "#text", text);
      item = pushData(item, tag.name, own);
    } else item = pushData(item, tag.name, text);
    if (depth === 0) result = item;
  });

  try {
    parser.write(text).close();
  } catch (err) {
    if (err instanceof PyXmlError) throw err;
    throw new PyXmlError("ExpatError", (err as Error).message);
  }
  return result;
}

/** push_data: a repeated key turns into a list. */
function pushData(item: Item, key: string, value: unknown): Record<string, unknown> {
  const target = item ?? {};
  if (Object.hasOwn(target, key)) {
    const existing = target[key];
    if (Array.isArray(existing)) existing.push(value);
    else target[key] = [existing, value];
  } else setOwn(target, key, value);
  return target;
}
