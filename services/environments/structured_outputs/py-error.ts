// A Python exception NeMo Gym's verifier catches and reports as
// "<TypeName>: <message>" (parse_error, validation_error).

export class PyException extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Python's type name and text of an error thrown by a pycompat parser. */
export function pyErrorText(err: Error): string {
  return `${err.name}: ${err.message}`;
}
