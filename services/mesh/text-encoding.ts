// Strings on the wire keep a leading U+FEFF. protobuf-es decodes UTF-8 with
// a default TextDecoder, which drops a leading byte-order mark: a model's
// answer or a row that starts with one would lose it between two services,
// and a verifier would then accept text that Python's json.loads (NeMo Gym)
// rejects. Loaded by every module that encodes or decodes messages.
import { configureTextEncoding } from "@bufbuild/protobuf/wire";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

configureTextEncoding({
  encodeUtf8: (text) => encoder.encode(text),
  decodeUtf8: (bytes, strict) => (strict ? strictDecoder : decoder).decode(bytes),
  checkUtf8: (text) => {
    try {
      encodeURIComponent(text);
      return true;
    } catch {
      return false;
    }
  },
});
