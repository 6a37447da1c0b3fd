"""Conversion between NeMo Gym / OpenAI Responses JSON and the gym.v1 protos.

This mirrors the mesh's own converter (services/mesh/responses-json.ts), so a
dataset row turned into a ``Task`` here is the same message the ``gym collect``
CLI sends. The rules, in short:

* A typed field reads the JSON key of the same snake_case name. Keys a message
  does not model, and modeled keys whose value is ``null``, are kept verbatim in
  the message's ``extra`` Struct (``Task.extra`` holds the row's own fields:
  expected_answer, metadata, agent_ref...).
* Items dispatch on ``type``: ``message``, ``function_call``,
  ``function_call_output`` and ``reasoning`` are typed; an object with ``role``
  and no ``type`` is a ``Message`` with ``untyped=True`` (NeMo Gym's short
  input form); any other item is kept verbatim in ``Item.other``. Tools of
  ``type: "function"`` become ``FunctionTool``; others go to ``Tool.other``.
* Identifier strings (id, role, status, call_id, name...) hold only non-empty
  values; free-text strings the API requires (function call ``arguments``, tool
  ``output``, part ``text``) must be present. ``tools: []`` stays in ``extra``.
* JSON that does not fit raises :class:`JsonShapeError` (a ``ValueError``)
  whose ``path`` names the place, e.g. ``responses_create_params.input[2].content``.

``*_to_json`` functions go back; ``x_to_json(x_from_json(j)) == j`` for any JSON
the ``*_from_json`` functions accept, except that numbers inside Structs are
doubles (integers above 2**53 lose precision, as in JavaScript).
"""

from __future__ import annotations

import math
from typing import Any, Iterable

from google.protobuf import struct_pb2

from gym.v1 import responses_pb2, task_pb2

__all__ = [
    "JsonShapeError",
    "task_from_row",
    "task_to_row",
    "params_from_json",
    "params_to_json",
    "item_from_json",
    "item_to_json",
    "tool_from_json",
    "tool_to_json",
    "response_from_json",
    "response_to_json",
    "struct_to_dict",
    "value_to_python",
    "tasks_from_rows",
]

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_FLOAT32_MAX = 3.4028234663852886e38
_TOKEN_KEYS = ("prompt_token_ids", "generation_token_ids", "generation_log_probs")


class JsonShapeError(ValueError):
    """JSON that does not fit the gym.v1 messages; ``path`` says where."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path or '(root)'}: {problem}")
        self.path = path
        self.problem = problem


# ---------------------------------------------------------------------------
# Plain JSON helpers


def _key(path: str, k: str) -> str:
    return k if path == "" else f"{path}.{k}"


def _index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def _describe(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return f"boolean {'true' if v else 'false'}"
    if isinstance(v, (int, float)):
        return f"number {v!r}"
    if isinstance(v, str):
        return f"a string ({(v[:40] + '...') if len(v) > 40 else v!r})"
    if isinstance(v, (list, tuple)):
        return "an array"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def _json_value(v: Any, path: str) -> Any:
    """A deep copy of a JSON value; raises for anything JSON cannot hold."""
    if v is None or isinstance(v, (str, bool)):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            raise JsonShapeError(path, f"{v!r} is not a JSON number")
        return v
    if isinstance(v, (list, tuple)):
        return [_json_value(x, _index(path, i)) for i, x in enumerate(v)]
    if isinstance(v, dict):
        return _json_object(v, path)
    raise JsonShapeError(path, f"expected a JSON value, got {_describe(v)}")


def _json_object(v: dict, path: str) -> dict:
    out = {}
    for k, x in v.items():
        if not isinstance(k, str):
            raise JsonShapeError(path, f"object keys must be strings, got {k!r}")
        out[k] = _json_value(x, _key(path, k))
    return out


def _expect_object(v: Any, path: str, what: str) -> dict:
    if not isinstance(v, dict):
        raise JsonShapeError(path, f"{what} must be a JSON object, got {_describe(v)}")
    return v


def _int32(v: Any, path: str) -> int:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int) or not _INT32_MIN <= v <= _INT32_MAX:
        raise JsonShapeError(path, f"expected a 32-bit integer, got {_describe(v)}")
    return v


def _fill_struct(struct: struct_pb2.Struct, obj: dict) -> None:
    """Sets a (possibly empty) Struct field from a validated JSON object."""
    struct.SetInParent()
    struct.update(obj)


def _fill_list(lv: struct_pb2.ListValue, items: list) -> None:
    lv.SetInParent()
    lv.extend(items)


def _number(x: float) -> int | float:
    # Struct numbers are doubles; give integral ones back as ints, as JSON.parse would.
    if x.is_integer() and abs(x) <= 2**53:
        return int(x)
    return x


def value_to_python(v: struct_pb2.Value) -> Any:
    kind = v.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "number_value":
        return _number(v.number_value)
    if kind == "string_value":
        return v.string_value
    if kind == "bool_value":
        return v.bool_value
    if kind == "struct_value":
        return struct_to_dict(v.struct_value)
    return [value_to_python(x) for x in v.list_value.values]


def struct_to_dict(s: struct_pb2.Struct) -> dict:
    """A Struct as a plain dict (integral numbers as ints)."""
    return {k: value_to_python(x) for k, x in s.fields.items()}


def _list_to_python(lv: struct_pb2.ListValue) -> list:
    return [value_to_python(x) for x in lv.values]


class _Fields:
    """Reads the keys of one JSON object: each ``take*`` consumes a key into a
    typed field; whatever is not consumed (unknown keys, nulls, the "" of
    identifier strings, empty lists) ends up in ``extra()``."""

    def __init__(self, obj: dict, path: str):
        self.obj = obj
        self.path = path
        self.consumed: set[str] = set()

    def at(self, k: str) -> str:
        return _key(self.path, k)

    def peek(self, k: str) -> Any:
        """The value of ``k`` if present and not null (None otherwise); not consumed."""
        return self.obj.get(k)

    def consume(self, k: str) -> None:
        self.consumed.add(k)

    def take(self, k: str) -> Any:
        v = self.peek(k)
        if v is not None:
            self.consume(k)
        return v

    def take_required(self, k: str, what: str) -> Any:
        if k not in self.obj:
            raise JsonShapeError(self.at(k), f'missing required key "{k}" ({what})')
        return self.take(k)

    def id_string(self, k: str) -> str:
        v = self.peek(k)
        if v is None:
            return ""
        if not isinstance(v, str):
            raise JsonShapeError(self.at(k), f"expected a string, got {_describe(v)}")
        if v != "":
            self.consume(k)
        return v

    def required_string(self, k: str, what: str) -> str:
        v = self.take_required(k, what)
        if v is None:
            return ""
        if not isinstance(v, str):
            raise JsonShapeError(self.at(k), f"expected a string, got {_describe(v)}")
        return v

    def opt_string(self, k: str) -> str | None:
        v = self.take(k)
        if v is not None and not isinstance(v, str):
            raise JsonShapeError(self.at(k), f"expected a string, got {_describe(v)}")
        return v

    def opt_bool(self, k: str) -> bool | None:
        v = self.take(k)
        if v is not None and not isinstance(v, bool):
            raise JsonShapeError(self.at(k), f"expected a boolean, got {_describe(v)}")
        return v

    def opt_number(self, k: str) -> float | None:
        v = self.take(k)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise JsonShapeError(self.at(k), f"expected a number, got {_describe(v)}")
        return float(v)

    def opt_int32(self, k: str) -> int | None:
        v = self.take(k)
        return None if v is None else _int32(v, self.at(k))

    def required_int32(self, k: str, what: str) -> int:
        v = self.take_required(k, what)
        return 0 if v is None else _int32(v, self.at(k))

    def non_empty_list(self, k: str, what: str) -> list:
        v = self.peek(k)
        if v is None:
            return []
        if not isinstance(v, list):
            raise JsonShapeError(self.at(k), f"expected an array of {what}, got {_describe(v)}")
        if v:
            self.consume(k)
        return v

    def required_list(self, k: str, what: str) -> list:
        v = self.take_required(k, f"an array of {what}")
        if v is None:
            return []
        if not isinstance(v, list):
            raise JsonShapeError(self.at(k), f"expected an array of {what}, got {_describe(v)}")
        return v

    def extra(self) -> dict | None:
        out = {k: _json_value(v, self.at(k)) for k, v in self.obj.items() if k not in self.consumed}
        return out or None


def _set_extra(msg: Any, f: _Fields) -> None:
    extra = f.extra()
    if extra is not None:
        _fill_struct(msg.extra, extra)


def _with_extra(out: dict, msg: Any) -> dict:
    """Output: typed fields first, then ``extra`` merged over them."""
    if msg.HasField("extra"):
        out.update(struct_to_dict(msg.extra))
    return out


# ---------------------------------------------------------------------------
# Token data (flat keys on message, function_call and reasoning items)


def _tokens_from_fields(f: _Fields, tokens: responses_pb2.TokenData) -> None:
    if not all(f.peek(k) is not None for k in _TOKEN_KEYS):
        return  # a partial set stays in extra

    def ids(k: str) -> list[int]:
        v = f.take(k)
        if not isinstance(v, list):
            raise JsonShapeError(f.at(k), f"expected an array of token ids, got {_describe(v)}")
        return [_int32(x, _index(f.at(k), i)) for i, x in enumerate(v)]

    prompt, generation = ids("prompt_token_ids"), ids("generation_token_ids")
    lp_path = f.at("generation_log_probs")
    lp = f.take("generation_log_probs")
    if not isinstance(lp, list):
        raise JsonShapeError(lp_path, f"expected an array of log probabilities, got {_describe(lp)}")
    for i, x in enumerate(lp):
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or abs(x) > _FLOAT32_MAX:
            raise JsonShapeError(_index(lp_path, i), f"expected a finite (float32) number, got {_describe(x)}")
    tokens.SetInParent()
    tokens.prompt_token_ids.extend(prompt)
    tokens.generation_token_ids.extend(generation)
    tokens.generation_log_probs.extend(lp)


def _tokens_to_json(out: dict, msg: Any) -> None:
    if msg.HasField("tokens"):
        t = msg.tokens
        out["prompt_token_ids"] = list(t.prompt_token_ids)
        out["generation_token_ids"] = list(t.generation_token_ids)
        out["generation_log_probs"] = list(t.generation_log_probs)


# ---------------------------------------------------------------------------
# Items


def item_from_json(obj: Any, path: str = "") -> responses_pb2.Item:
    """One input or output item of a conversation."""
    obj = _expect_object(obj, path, "an item")
    item = responses_pb2.Item()
    if "type" not in obj:
        if "role" in obj:
            _message_from_fields(_Fields(obj, path), item.message, untyped=True)
        else:
            _fill_struct(item.other, _json_object(obj, path))
        return item
    f = _Fields(obj, path)
    kind = obj["type"]
    if kind == "message":
        f.consume("type")
        _message_from_fields(f, item.message, untyped=False)
    elif kind == "function_call":
        f.consume("type")
        _function_call_from_fields(f, item.function_call)
    elif kind == "function_call_output":
        f.consume("type")
        _function_call_output_from_fields(f, item.function_call_output)
    elif kind == "reasoning":
        f.consume("type")
        _reasoning_from_fields(f, item.reasoning)
    else:
        _fill_struct(item.other, _json_object(obj, path))
    return item


def item_to_json(item: responses_pb2.Item) -> dict:
    kind = item.WhichOneof("kind")
    if kind == "message":
        return _message_to_json(item.message)
    if kind == "function_call":
        return _function_call_to_json(item.function_call)
    if kind == "function_call_output":
        return _function_call_output_to_json(item.function_call_output)
    if kind == "reasoning":
        return _reasoning_to_json(item.reasoning)
    if kind == "other":
        return struct_to_dict(item.other)
    raise JsonShapeError("", "Item has no kind set")


def _message_from_fields(f: _Fields, m: responses_pb2.Message, untyped: bool) -> None:
    m.SetInParent()
    m.id = f.id_string("id")
    m.role = f.id_string("role")
    m.status = f.id_string("status")
    m.untyped = untyped
    c = f.take("content")
    if isinstance(c, str):
        m.text = c
    elif isinstance(c, list):
        m.parts.SetInParent()
        for i, p in enumerate(c):
            m.parts.parts.append(_content_part_from_json(p, _index(f.at("content"), i)))
    elif c is not None:
        raise JsonShapeError(
            f.at("content"), f"message content must be a string or an array of content parts, got {_describe(c)}"
        )
    _tokens_from_fields(f, m.tokens)
    _set_extra(m, f)


def _message_to_json(m: responses_pb2.Message) -> dict:
    out: dict = {}
    if not m.untyped:
        out["type"] = "message"
    if m.id:
        out["id"] = m.id
    if m.role:
        out["role"] = m.role
    content = m.WhichOneof("content")
    if content == "text":
        out["content"] = m.text
    elif content == "parts":
        out["content"] = [_content_part_to_json(p) for p in m.parts.parts]
    if m.status:
        out["status"] = m.status
    _tokens_to_json(out, m)
    return _with_extra(out, m)


def _content_part_from_json(obj: Any, path: str) -> responses_pb2.ContentPart:
    obj = _expect_object(obj, path, "a content part")
    f = _Fields(obj, path)
    part = responses_pb2.ContentPart()
    kind = obj.get("type", _Fields)  # a sentinel for "no type key"
    if kind == "input_text":
        f.consume("type")
        part.input_text.text = f.required_string("text", "the text of an input_text part")
        part.input_text.SetInParent()
        _set_extra(part.input_text, f)
    elif kind == "output_text":
        f.consume("type")
        ot = part.output_text
        ot.SetInParent()
        ot.text = f.required_string("text", "the text of an output_text part")
        for k in ("annotations", "logprobs"):
            v = f.take(k)
            if v is None:
                continue
            if not isinstance(v, list):
                raise JsonShapeError(f.at(k), f"expected an array, got {_describe(v)}")
            _fill_list(getattr(ot, k), _json_value(v, f.at(k)))
        _set_extra(ot, f)
    elif kind == "refusal":
        f.consume("type")
        part.refusal.SetInParent()
        part.refusal.refusal = f.required_string("refusal", "the text of a refusal part")
        _set_extra(part.refusal, f)
    else:
        _fill_struct(part.other, _json_object(obj, path))
    return part


def _content_part_to_json(p: responses_pb2.ContentPart) -> dict:
    kind = p.WhichOneof("kind")
    if kind == "input_text":
        return _with_extra({"type": "input_text", "text": p.input_text.text}, p.input_text)
    if kind == "output_text":
        v = p.output_text
        out: dict = {"type": "output_text", "text": v.text}
        if v.HasField("annotations"):
            out["annotations"] = _list_to_python(v.annotations)
        if v.HasField("logprobs"):
            out["logprobs"] = _list_to_python(v.logprobs)
        return _with_extra(out, v)
    if kind == "refusal":
        return _with_extra({"type": "refusal", "refusal": p.refusal.refusal}, p.refusal)
    if kind == "other":
        return struct_to_dict(p.other)
    raise JsonShapeError("", "ContentPart has no kind set")


def _function_call_from_fields(f: _Fields, c: responses_pb2.FunctionCall) -> None:
    c.SetInParent()
    c.id = f.id_string("id")
    c.call_id = f.id_string("call_id")
    c.name = f.id_string("name")
    c.arguments = f.required_string("arguments", "the JSON text of the call's arguments")
    c.status = f.id_string("status")
    _tokens_from_fields(f, c.tokens)
    _set_extra(c, f)


def _function_call_to_json(c: responses_pb2.FunctionCall) -> dict:
    out: dict = {"type": "function_call"}
    if c.id:
        out["id"] = c.id
    if c.call_id:
        out["call_id"] = c.call_id
    if c.name:
        out["name"] = c.name
    out["arguments"] = c.arguments
    if c.status:
        out["status"] = c.status
    _tokens_to_json(out, c)
    return _with_extra(out, c)


def _function_call_output_from_fields(f: _Fields, o: responses_pb2.FunctionCallOutput) -> None:
    o.SetInParent()
    o.id = f.id_string("id")
    o.call_id = f.id_string("call_id")
    if not isinstance(f.obj.get("output"), list):
        # The API also allows a list of content parts here: kept verbatim in extra.
        o.output = f.required_string("output", "the tool's output")
    o.status = f.id_string("status")
    _set_extra(o, f)


def _function_call_output_to_json(o: responses_pb2.FunctionCallOutput) -> dict:
    out: dict = {"type": "function_call_output"}
    if o.id:
        out["id"] = o.id
    if o.call_id:
        out["call_id"] = o.call_id
    out["output"] = o.output
    if o.status:
        out["status"] = o.status
    return _with_extra(out, o)


def _reasoning_text_from_json(obj: Any, path: str) -> responses_pb2.ReasoningText:
    obj = _expect_object(obj, path, "a reasoning text part")
    f = _Fields(obj, path)
    t = responses_pb2.ReasoningText(
        type=f.required_string("type", '"summary_text" or "reasoning_text"'),
        text=f.required_string("text", "the reasoning text"),
    )
    for k in ("type", "text"):
        if obj[k] is None:
            raise JsonShapeError(f.at(k), f'"{k}" cannot be null in a reasoning text part')
    rest = f.extra()
    if rest:
        k = next(iter(rest))
        raise JsonShapeError(f.at(k), f'unexpected key "{k}": a reasoning text part holds only "type" and "text"')
    return t


def _reasoning_from_fields(f: _Fields, r: responses_pb2.Reasoning) -> None:
    r.SetInParent()
    r.id = f.id_string("id")
    summary = f.required_list("summary", "summary parts")
    r.summary.extend(_reasoning_text_from_json(p, _index(f.at("summary"), i)) for i, p in enumerate(summary))
    content = f.non_empty_list("content", "reasoning text parts")
    r.content.extend(_reasoning_text_from_json(p, _index(f.at("content"), i)) for i, p in enumerate(content))
    r.encrypted_content = f.id_string("encrypted_content")
    r.status = f.id_string("status")
    _tokens_from_fields(f, r.tokens)
    _set_extra(r, f)


def _reasoning_to_json(r: responses_pb2.Reasoning) -> dict:
    out: dict = {"type": "reasoning"}
    if r.id:
        out["id"] = r.id
    out["summary"] = [{"type": t.type, "text": t.text} for t in r.summary]
    if len(r.content):
        out["content"] = [{"type": t.type, "text": t.text} for t in r.content]
    if r.encrypted_content:
        out["encrypted_content"] = r.encrypted_content
    if r.status:
        out["status"] = r.status
    _tokens_to_json(out, r)
    return _with_extra(out, r)


# ---------------------------------------------------------------------------
# Tools


def tool_from_json(obj: Any, path: str = "") -> responses_pb2.Tool:
    """A tool the model may call: ``type: "function"`` is typed, others go to ``other``."""
    obj = _expect_object(obj, path, "a tool")
    tool = responses_pb2.Tool()
    if obj.get("type") == "function":
        f = _Fields(obj, path)
        f.consume("type")
        t = tool.function
        t.SetInParent()
        t.name = f.id_string("name")
        description = f.opt_string("description")
        if description is not None:
            t.description = description
        p = f.take("parameters")
        if p is not None:
            if not isinstance(p, dict):
                raise JsonShapeError(f.at("parameters"), f"expected a JSON schema object, got {_describe(p)}")
            _fill_struct(t.parameters, _json_object(p, f.at("parameters")))
        strict = f.opt_bool("strict")
        if strict is not None:
            t.strict = strict
        _set_extra(t, f)
    else:
        _fill_struct(tool.other, _json_object(obj, path))
    return tool


def tool_to_json(tool: responses_pb2.Tool) -> dict:
    kind = tool.WhichOneof("kind")
    if kind == "other":
        return struct_to_dict(tool.other)
    if kind != "function":
        raise JsonShapeError("", "Tool has no kind set")
    t = tool.function
    out: dict = {"type": "function"}
    if t.name:
        out["name"] = t.name
    if t.HasField("description"):
        out["description"] = t.description
    if t.HasField("parameters"):
        out["parameters"] = struct_to_dict(t.parameters)
    if t.HasField("strict"):
        out["strict"] = t.strict
    return _with_extra(out, t)


def _tools_from_fields(f: _Fields) -> list[responses_pb2.Tool]:
    return [tool_from_json(t, _index(f.at("tools"), i)) for i, t in enumerate(f.non_empty_list("tools", "tools"))]


# ---------------------------------------------------------------------------
# Request params


def params_from_json(obj: Any, path: str = "") -> responses_pb2.ResponseCreateParams:
    """The body of ``POST /v1/responses`` (a row's ``responses_create_params``)."""
    obj = _expect_object(obj, path, "responses_create_params")
    f = _Fields(obj, path)
    p = responses_pb2.ResponseCreateParams()
    raw_input = f.take("input")
    if isinstance(raw_input, str):
        p.input_text = raw_input
    elif isinstance(raw_input, list):
        p.input_items.SetInParent()
        p.input_items.items.extend(item_from_json(it, _index(f.at("input"), i)) for i, it in enumerate(raw_input))
    elif raw_input is not None:
        raise JsonShapeError(f.at("input"), f"input must be a string or an array of items, got {_describe(raw_input)}")
    for k in ("model", "instructions"):
        v = f.opt_string(k)
        if v is not None:
            setattr(p, k, v)
    p.tools.extend(_tools_from_fields(f))
    for k in ("temperature", "top_p"):
        v = f.opt_number(k)
        if v is not None:
            setattr(p, k, v)
    v = f.opt_int32("max_output_tokens")
    if v is not None:
        p.max_output_tokens = v
    b = f.opt_bool("parallel_tool_calls")
    if b is not None:
        p.parallel_tool_calls = b
    tc = f.take("tool_choice")
    if tc is not None:
        tc = _json_value(tc, f.at("tool_choice"))
        if isinstance(tc, dict):
            _fill_struct(p.tool_choice.struct_value, tc)
        elif isinstance(tc, list):
            _fill_list(p.tool_choice.list_value, tc)
        elif isinstance(tc, bool):
            p.tool_choice.bool_value = tc
        elif isinstance(tc, str):
            p.tool_choice.string_value = tc
        else:
            p.tool_choice.number_value = tc
    _set_extra(p, f)
    return p


def params_to_json(p: responses_pb2.ResponseCreateParams) -> dict:
    out: dict = {}
    which = p.WhichOneof("input")
    if which == "input_text":
        out["input"] = p.input_text
    elif which == "input_items":
        out["input"] = [item_to_json(it) for it in p.input_items.items]
    for k in ("model", "instructions"):
        if p.HasField(k):
            out[k] = getattr(p, k)
    if len(p.tools):
        out["tools"] = [tool_to_json(t) for t in p.tools]
    for k in ("temperature", "top_p", "max_output_tokens", "parallel_tool_calls"):
        if p.HasField(k):
            v = getattr(p, k)
            out[k] = _number(v) if isinstance(v, float) else v
    if p.HasField("tool_choice"):
        out["tool_choice"] = value_to_python(p.tool_choice)
    return _with_extra(out, p)


# ---------------------------------------------------------------------------
# Responses


def response_from_json(obj: Any, path: str = "") -> responses_pb2.Response:
    """A model response (``{"object": "response", ...}``)."""
    f = _Fields(_expect_object(obj, path, "a response"), path)
    r = responses_pb2.Response()
    r.id = f.id_string("id")
    created_at = f.opt_number("created_at")
    if created_at is not None:
        r.created_at = created_at
    r.model = f.id_string("model")
    r.status = f.id_string("status")
    output = f.required_list("output", "output items")
    r.output.extend(item_from_json(it, _index(f.at("output"), i)) for i, it in enumerate(output))
    u = f.take("usage")
    if u is not None:
        uf = _Fields(_expect_object(u, f.at("usage"), "usage"), f.at("usage"))
        r.usage.SetInParent()
        r.usage.input_tokens = uf.required_int32("input_tokens", "a token count")
        r.usage.output_tokens = uf.required_int32("output_tokens", "a token count")
        r.usage.total_tokens = uf.required_int32("total_tokens", "a token count")
        _set_extra(r.usage, uf)
    r.tools.extend(_tools_from_fields(f))
    _set_extra(r, f)
    return r


def response_to_json(r: responses_pb2.Response) -> dict:
    out: dict = {}
    if r.id:
        out["id"] = r.id
    if r.HasField("created_at"):
        out["created_at"] = _number(r.created_at)
    if r.model:
        out["model"] = r.model
    if r.status:
        out["status"] = r.status
    out["output"] = [item_to_json(it) for it in r.output]
    if r.HasField("usage"):
        u = r.usage
        out["usage"] = _with_extra(
            {"input_tokens": u.input_tokens, "output_tokens": u.output_tokens, "total_tokens": u.total_tokens}, u
        )
    if len(r.tools):
        out["tools"] = [tool_to_json(t) for t in r.tools]
    return _with_extra(out, r)


# ---------------------------------------------------------------------------
# Tasks


def task_from_row(row: Any) -> task_pb2.Task:
    """A NeMo Gym dataset row as a Task.

    ``responses_create_params`` becomes the typed request; every other field of
    the row (expected_answer, metadata, agent_ref...) goes to ``Task.extra`` and
    reaches the verifier untouched. Raises :class:`JsonShapeError` (a
    ``ValueError``) naming the field path when the row does not fit.
    """
    obj = _expect_object(row, "", "a task row")
    f = _Fields(obj, "")
    p = f.take("responses_create_params")
    if p is None:
        why = "is null" if "responses_create_params" in obj else "is missing"
        raise JsonShapeError(
            "responses_create_params",
            f'a task row needs "responses_create_params" (the request to the model); it {why}',
        )
    task = task_pb2.Task(responses_create_params=params_from_json(p, "responses_create_params"))
    _set_extra(task, f)
    return task


def task_to_row(task: task_pb2.Task) -> dict:
    """The dataset row a Task came from (the inverse of :func:`task_from_row`)."""
    out: dict = {}
    if task.HasField("responses_create_params"):
        out["responses_create_params"] = params_to_json(task.responses_create_params)
    return _with_extra(out, task)


def tasks_from_rows(rows: Iterable[Any]) -> list[task_pb2.Task]:
    return [task_from_row(r) for r in rows]
