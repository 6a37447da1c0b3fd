// Python's csv module as `list(csv.DictReader(io.StringIO(text)))` reads
// text: the default "excel" dialect (',' and '"', doubled quotes, no escape
// character, not strict). It is a port of CPython's _csv.c reader state
// machine, because JS CSV parsers disagree with it where rewards depend on it:
// a quote inside an unquoted field is a plain character, text after a closing
// quote joins the field, an unterminated quote runs to the end of the input,
// a lone "\r" followed by more text is an error, and blank lines are skipped.
//
// io.StringIO(text) splits lines on "\n" only, keeping "\r": the reader sees
// "\r\n" endings and treats a bare "\r" as the end of a record whose next
// character must start a new line.

/** Python's csv.Error (its type name is "Error"). */
export class PyCsvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Error";
  }
}

/** csv.field_size_limit() default. */
const FIELD_LIMIT = 131072;

type State = "START_RECORD" | "START_FIELD" | "IN_FIELD" | "IN_QUOTED_FIELD" | "QUOTE_IN_QUOTED_FIELD" | "EAT_CRNL";

/** The rows of csv.reader(io.StringIO(text)) with the excel dialect; a blank line is []. */
export function pyCsvReader(text: string): string[][] {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const rows: string[][] = [];
  let i = 0;
  while (i < lines.length) {
    const r = new RecordParser();
    do {
      if (i >= lines.length) {
        // The input ended inside a quoted field: the partial field is kept (strict=False).
        r.saveField();
        break;
      }
      for (const c of lines[i++]!) r.process(c);
      r.process(null);
    } while (r.state !== "START_RECORD");
    rows.push(r.fields);
  }
  return rows;
}

class RecordParser {
  state: State = "START_RECORD";
  readonly fields: string[] = [];
  private field: string[] = [];

  saveField(): void {
    this.fields.push(this.field.join(""));
    this.field = [];
  }

  private add(c: string): void {
    if (this.field.length >= FIELD_LIMIT) throw new PyCsvError(`field larger than field limit (${FIELD_LIMIT})`);
    this.field.push(c);
  }

  /** One character, or null for the end of a line (_csv.c's EOL). */
  process(c: string | null): void {
    const newline = c === "\n" || c === "\r";
    switch (this.state) {
      case "START_RECORD":
        if (c === null) return; // empty line: the record is []
        if (newline) {
          this.state = "EAT_CRNL";
          return;
        }
        this.state = "START_FIELD";
      // falls through: a normal character starts the first field
      case "START_FIELD":
        if (newline || c === null) {
          this.saveField();
          this.state = c === null ? "START_RECORD" : "EAT_CRNL";
        } else if (c === '"') this.state = "IN_QUOTED_FIELD";
        else if (c === ",") this.saveField();
        else {
          this.add(c);
          this.state = "IN_FIELD";
        }
        return;
      case "IN_FIELD":
        if (newline || c === null) {
          this.saveField();
          this.state = c === null ? "START_RECORD" : "EAT_CRNL";
        } else if (c === ",") {
          this.saveField();
          this.state = "START_FIELD";
        } else this.add(c);
        return;
      case "IN_QUOTED_FIELD":
        if (c === null) return; // the line's "\n" is already in the field
        if (c === '"') this.state = "QUOTE_IN_QUOTED_FIELD";
        else this.add(c);
        return;
      case "QUOTE_IN_QUOTED_FIELD":
        if (c === '"') {
          this.add(c);
          this.state = "IN_QUOTED_FIELD";
        } else if (c === ",") {
          this.saveField();
          this.state = "START_FIELD";
        } else if (newline || c === null) {
          this.saveField();
          this.state = c === null ? "START_RECORD" : "EAT_CRNL";
        } else {
          this.add(c);
          this.state = "IN_FIELD";
        }
        return;
      case "EAT_CRNL":
        if (newline) return;
        if (c === null) {
          this.state = "START_RECORD";
          return;
        }
        throw new PyCsvError("new-line character seen in unquoted field - do you need to open the file with newline=''?");
    }
  }
}

/** A DictReader row: column name -> value, in order. `restkey` (None) holds surplus values; missing ones are None (restval). */
export type PyCsvRow = Map<string | null, string | string[] | null>;

/** list(csv.DictReader(io.StringIO(text))): the first row names the columns; blank lines are skipped. */
export function pyCsvDictReader(text: string): PyCsvRow[] {
  const rows = pyCsvReader(text);
  if (rows.length === 0) return [];
  const [fieldnames, ...rest] = rows as [string[], ...string[][]];
  const out: PyCsvRow[] = [];
  for (const row of rest) {
    if (row.length === 0) continue;
    // dict(zip(fieldnames, row)): a repeated name keeps its first position and its last value.
    const d: PyCsvRow = new Map();
    for (let k = 0; k < Math.min(fieldnames.length, row.length); k++) d.set(fieldnames[k]!, row[k]!);
    if (fieldnames.length < row.length) d.set(null, row.slice(fieldnames.length));
    else for (const key of fieldnames.slice(row.length)) d.set(key, null);
    out.push(d);
  }
  return out;
}
