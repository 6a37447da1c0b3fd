// parse_content of NeMo Gym 0.7.0: the answer text read by the Python
// library each schema_type names, emulated in services/pycompat/:
//   json  json.loads                        (pycompat/json-loads.ts)
//   yaml  yaml.safe_load (PyYAML, YAML 1.1) (pycompat/yaml.ts, on `yaml`)
//   xml   xmltodict.parse (expat)           (pycompat/xmltodict.ts, on saxes)
//   toml  tomllib.loads (TOML 1.0)          (pycompat/toml.ts, on smol-toml)
//   csv   list(csv.DictReader(io.StringIO)) (pycompat/csv.ts)
// A failure is the Python exception's type name and message (parse_error).
import { pyCsvDictReader, PyCsvError, type PyCsvRow } from "../../pycompat/csv.js";
import { JSONDecodeError, pyJsonLoads } from "../../pycompat/json-loads.js";
import { PyValueError } from "../../pycompat/numbers.js";
import { PyTomlError, pyTomlLoads } from "../../pycompat/toml.js";
import { pyXmltodictParse, PyXmlError } from "../../pycompat/xmltodict.js";
import { pySafeLoad, PyYamlError } from "../../pycompat/yaml.js";
import type { SchemaType } from "./row.js";

export type Parsed = { ok: true; value: unknown } | { ok: true; csvRows: PyCsvRow[] } | { ok: false; error: string };

const PYTHON_ERRORS = [JSONDecodeError, PyYamlError, PyValueError, PyXmlError, PyTomlError, PyCsvError];

export function parseAnswer(schemaType: SchemaType, text: string): Parsed {
  try {
    switch (schemaType) {
      case "json":
        return { ok: true, value: pyJsonLoads(text) };
      case "yaml":
        return { ok: true, value: pySafeLoad(text) };
      case "xml":
        return { ok: true, value: pyXmltodictParse(text) };
      case "toml":
        return { ok: true, value: pyTomlLoads(text) };
      case "csv":
        return { ok: true, csvRows: pyCsvDictReader(text) };
    }
  } catch (err) {
    if (PYTHON_ERRORS.some((type) => err instanceof type)) return { ok: false, error: `${(err as Error).name}: ${(err as Error).message}` };
    throw err;
  }
}
