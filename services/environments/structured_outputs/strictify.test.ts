import { describe, expect, it } from "vitest";
import { strictify, UnusableSchemaError } from "./strictify.js";

// [schema, what NeMo Gym 0.7.0's strictify_schema makes of it] (computed by running it).
const CASES: [unknown, unknown][] = 
[
  [{"type": "object", "properties": {"a": {"type": "string"}}}, {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "additionalProperties": false}],
  [{"type": "object", "properties": {"o": {"$ref": "#/$defs/p"}}, "$defs": {"p": {"type": "object", "properties": {"x": {"type": "integer"}}}}}, {"type": "object", "properties": {"o": {"$ref": "#/$defs/p"}}, "$defs": {"p": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"], "additionalProperties": false}}, "required": ["o"], "additionalProperties": false}],
  [{"definitions": {"p": {"properties": {"x": {}}}}}, {"definitions": {"p": {"properties": {"x": {}}, "required": ["x"], "additionalProperties": false}}}],
  [{"if": {"properties": {"k": {"const": "a"}}}, "then": {"properties": {"v": {}}}, "else": {"not": {"properties": {"w": {}}}}}, {"if": {"properties": {"k": {"const": "a"}}, "required": ["k"], "additionalProperties": false}, "then": {"properties": {"v": {}}, "required": ["v"], "additionalProperties": false}, "else": {"not": {"properties": {"w": {}}, "required": ["w"], "additionalProperties": false}}}],
  [{"anyOf": [{"properties": {"a": {}}}], "oneOf": [{"properties": {"b": {}}}], "allOf": [{"properties": {"c": {}}}]}, {"anyOf": [{"properties": {"a": {}}}], "oneOf": [{"properties": {"b": {}}}], "allOf": [{"properties": {"c": {}}}]}],
  [{"type": "array", "prefixItems": [{"properties": {"a": {}}}], "items": {"properties": {"b": {}}}}, {"type": "array", "prefixItems": [{"properties": {"a": {}}}], "items": {"properties": {"b": {}}, "required": ["b"], "additionalProperties": false}}],
  [{"properties": {"properties": {"properties": {"k": {}}}, "n": {}}}, {"properties": {"properties": {"properties": {"k": {}}, "required": ["k"], "additionalProperties": false}, "n": {}, "required": ["properties"], "additionalProperties": false}, "required": ["properties", "n"], "additionalProperties": false}],
  [{"properties": {"c": {"const": {"properties": {"k": 1}}, "enum": [{"properties": {"k": 1}}], "default": {"properties": {}}}}}, {"properties": {"c": {"const": {"properties": {"k": 1}, "required": ["k"], "additionalProperties": false}, "enum": [{"properties": {"k": 1}}], "default": {"properties": {}, "required": [], "additionalProperties": false}}}, "required": ["c"], "additionalProperties": false}],
  [{"properties": {"a": {}}, "additionalProperties": {"properties": {"z": {}}}, "required": ["zzz"]}, {"properties": {"a": {}}, "additionalProperties": false, "required": ["a"]}],
  [{"additionalProperties": {"properties": {"z": {}}}}, {"additionalProperties": {"properties": {"z": {}}, "required": ["z"], "additionalProperties": false}}],
  [{"properties": ["x", "y"]}, {"properties": ["x", "y"], "required": ["x", "y"], "additionalProperties": false}],
  [{"properties": "ab"}, {"properties": "ab", "required": ["a", "b"], "additionalProperties": false}],
  [{"patternProperties": {"^a": {"properties": {"b": {}}}}, "dependentSchemas": {"a": {"properties": {"q": {}}}}}, {"patternProperties": {"^a": {"properties": {"b": {}}, "required": ["b"], "additionalProperties": false}}, "dependentSchemas": {"a": {"properties": {"q": {}}, "required": ["q"], "additionalProperties": false}}}],
  [[{"properties": {"a": {}}}], [{"properties": {"a": {}}}]],
  [{"items": [{"properties": {"a": {}}}]}, {"items": [{"properties": {"a": {}}}]}]
];

describe("strictify (NeMo Gym 0.7.0's strictify_schema)", () => {
  for (const [schema, want] of CASES) {
    it(JSON.stringify(schema).slice(0, 100), () => {
      const copy = structuredClone(schema);
      strictify(copy);
      // Key order matters too: Python's dict keeps insertion order, and so does the error text.
      expect(JSON.stringify(copy)).toBe(JSON.stringify(want));
    });
  }

  it("refuses properties that Python's list() cannot take (NeMo Gym fails with a server error)", () => {
    for (const properties of [1, null, true]) expect(() => strictify({ properties })).toThrow(UnusableSchemaError);
  });
});
