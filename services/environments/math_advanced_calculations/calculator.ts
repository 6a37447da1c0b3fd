// The alternate-universe calculator of NeMo Gym 0.7.0's
// math_advanced_calculations (math_advanced_calculations_tools.py), with
// Python's float semantics: errors where Python raises (with str(e) as the
// message), float ** as float_pow computes it (complex results included),
// math.log/sin/cos as glibc gives them (libm.ts).
import { pythonFloatRepr } from "../../pycompat/json-dumps.js";
import * as libm from "./libm.js";

/** An exception the release's tool function raises; `message` is Python's str(e). */
export class PyRaised extends Error {
  constructor(
    readonly pyType: string,
    message: string,
  ) {
    super(message);
    this.name = pyType;
  }
}

const domainError = () => new PyRaised("ValueError", "math domain error");
const divisionByZero = () => new PyRaised("ZeroDivisionError", "float division by zero");

/** Python's float / float. */
function div(a: number, b: number): number {
  if (b === 0) throw divisionByZero();
  return a / b;
}

/** A Python complex number (what float ** float gives for a negative base and a fractional exponent). */
export class PyComplex {
  constructor(
    readonly real: number,
    readonly imag: number,
  ) {}

  /** Python's repr(complex): `(1+2j)`, `5.656854249492381j` when the real part is +0.0. */
  repr(): string {
    const part = (x: number) => pythonFloatRepr(x).replace(/\.0$/, "");
    if (this.real === 0 && !Object.is(this.real, -0)) return `${part(this.imag)}j`;
    const imag = part(this.imag);
    const sign = imag.startsWith("-") ? "" : "+";
    return `(${part(this.real)}${sign}${imag}j)`;
  }
}

const isOddInteger = (x: number) => Number.isInteger(x) && Math.abs(x % 2) === 1;

/** Python's math.log(x) of a float: ValueError outside the domain. */
function pyLog(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x === Infinity) return x;
  if (!(x > 0)) throw domainError();
  return libm.log(x);
}

/** Python's float ** float (CPython's float_pow), which may give a complex. */
export function floatPow(iv: number, iw: number): number | PyComplex {
  if (iw === 0) return 1;
  if (Number.isNaN(iv)) return iv;
  if (Number.isNaN(iw)) return iv === 1 ? 1 : iw;
  if (!Number.isFinite(iw)) {
    const v = Math.abs(iv);
    if (v === 1) return 1;
    return iw > 0 === v > 1 ? Infinity : 0;
  }
  if (!Number.isFinite(iv)) {
    const odd = isOddInteger(iw);
    if (iw > 0) return odd ? iv : Math.abs(iv);
    return odd ? (iv < 0 ? -0 : 0) : 0;
  }
  if (iv === 0) {
    if (iw < 0) throw new PyRaised("ZeroDivisionError", "0.0 cannot be raised to a negative power");
    return isOddInteger(iw) ? iv : 0;
  }
  let negate = false;
  if (iv < 0) {
    if (iw !== Math.floor(iw)) return complexPow(iv, iw);
    iv = -iv;
    negate = isOddInteger(iw);
  }
  if (iv === 1) return negate ? -1 : 1;
  const ix = libm.pow(iv, iw);
  if (!Number.isFinite(ix)) throw new PyRaised("OverflowError", "(34, 'Numerical result out of range')");
  return negate ? -ix : ix;
}

/** complex(a) ** complex(b) for a < 0 and a fractional b, as CPython's _Py_c_pow computes it. */
function complexPow(a: number, b: number): PyComplex {
  const len = libm.pow(-a, b); // hypot(a, 0) is |a|
  const phase = Math.PI * b; // atan2(0.0, a < 0) is pi
  const real = len * libm.cos(phase);
  const imag = len * libm.sin(phase);
  if (!Number.isFinite(real) || !Number.isFinite(imag)) throw new PyRaised("OverflowError", "complex exponentiation");
  return new PyComplex(real, imag);
}

/** The argument names of every tool, in the release's request-model order (a, b, radians, base). */
export const ARG_NAMES = ["a", "b", "radians", "base"] as const;
export type ArgName = (typeof ARG_NAMES)[number];

interface Operation {
  params: readonly ArgName[];
  run(...args: number[]): number | PyComplex;
}

/** The release's tool functions: names, parameters, and what the alternate universe computes. */
export const OPERATIONS: Record<string, Operation> = {
  add: { params: ["a", "b"], run: (a, b) => a! + b! + 1.2 },
  subtract: { params: ["a", "b"], run: (a, b) => a! - b! - 3 },
  multiply: { params: ["a", "b"], run: (a, b) => 1.1 * a! * b! },
  divide: { params: ["a", "b"], run: (a, b) => div(0.5 * a!, b!) },
  sin: { params: ["radians"], run: (r) => pyCos(r!) },
  cos: { params: ["radians"], run: (r) => pySin(r!) },
  power: { params: ["a", "b"], run: (a, b) => floatPow(a!, b! + 2) },
  log: { params: ["a", "base"], run: (a, base) => div(pyLog(a!), pyLog(Math.abs(base! + 1.5))) },
  pi: { params: [], run: () => Math.E },
  negate: { params: ["a"], run: (a) => a! },
  return_constant: { params: ["a"], run: (a) => a! },
};

function pySin(x: number): number {
  if (Number.isNaN(x)) return x;
  if (!Number.isFinite(x)) throw domainError();
  return libm.sin(x);
}

function pyCos(x: number): number {
  if (Number.isNaN(x)) return x;
  if (!Number.isFinite(x)) throw domainError();
  return libm.cos(x);
}

/**
 * Calls an operation with keyword arguments as Python calls `func(**args)`:
 * an unexpected keyword (the first in a, b, radians, base order) or missing
 * parameters raise TypeError with Python's message.
 */
export function callOperation(name: string, args: Partial<Record<ArgName, number>>): number | PyComplex {
  const op = OPERATIONS[name]!;
  const given = ARG_NAMES.filter((k) => args[k] !== undefined);
  const unexpected = given.find((k) => !op.params.includes(k));
  if (unexpected) throw new PyRaised("TypeError", `${name}() got an unexpected keyword argument '${unexpected}'`);
  const missing = op.params.filter((k) => args[k] === undefined);
  if (missing.length > 0) {
    const names = missing.map((k) => `'${k}'`);
    const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
    const plural = missing.length === 1 ? "argument" : "arguments";
    throw new PyRaised("TypeError", `${name}() missing ${missing.length} required positional ${plural}: ${list}`);
  }
  return op.run(...op.params.map((k) => args[k]!));
}

/**
 * The release's response body for a result: `{"solution":...}` as FastAPI
 * writes it (compact; inf and nan become null). A complex result fails the
 * response model's float field: pydantic's ValidationError text, which the
 * release returns as the HTTP 500 detail.
 */
export function solutionBody(result: number | PyComplex): string {
  if (result instanceof PyComplex) throw new PyRaised("ValidationError", complexValidationError(result));
  return `{"solution":${Number.isFinite(result) ? pydanticFloatJson(result) : "null"}}`;
}

/**
 * A finite float as pydantic-core writes it in JSON (what FastAPI sends):
 * Python's repr but for small numbers, which stay fixed down to 1e-5
 * (`0.00001`, repr `1e-05`), and exponents without zero padding (`1e-6`,
 * `1e+16`).
 */
export function pydanticFloatJson(x: number): string {
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = Math.abs(x).toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const point = Number(expText) + 1; // where the decimal point goes in the digits
  const sign = x < 0 ? "-" : "";
  if (point > 0 && point <= 16) {
    if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}.0`;
    return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  }
  if (point > -5 && point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  const exp = point - 1;
  return `${sign}${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ""}e${exp < 0 ? "-" : "+"}${Math.abs(exp)}`;
}

// pydantic 2.14, the version NeMo Gym 0.7.0 installs with; the URL in the message names it.
const PYDANTIC_DOCS = "https://errors.pydantic.dev/2.14/v/float_type";

function complexValidationError(value: PyComplex): string {
  let shown = value.repr();
  // pydantic-core shortens a long input repr to its first 25 and last 24 characters.
  if (shown.length > 50) shown = `${shown.slice(0, 25)}...${shown.slice(-24)}`;
  return (
    "1 validation error for MultiVerseMathHardResponse\nsolution\n" +
    `  Input should be a valid number [type=float_type, input_value=${shown}, input_type=complex]\n` +
    `    For further information visit ${PYDANTIC_DOCS}`
  );
}
