"""Token data of a rollout, joined for training.

Where the token data is
-----------------------
When the model instance is configured for training (``api:
chat_completions`` and ``return_token_ids: true``, a vLLM backend), every
model call of a rollout (a *turn*) leaves its token data on the **last output
item of that turn** (a ``message``, ``function_call`` or ``reasoning`` item),
flat under NeMo Gym's names:

- ``prompt_token_ids``: the whole prompt of that call, as the backend
  tokenized it (the chat template applied to the conversation so far);
- ``generation_token_ids``: the tokens the model generated in that call;
- ``generation_log_probs``: the logprob of each generated token.

Other items (tool outputs, follow-up user messages, the other items of a turn
that made several) carry none. In a typed ``Rollout`` the same data is the
``tokens`` field of those items.

Joining the turns
-----------------
A multi-turn rollout trains as **one sequence**: the first turn's prompt, then
for each turn the tokens the environment added since the previous one (tool
outputs, a user message, the template's markers: not trained, loss mask 0)
and the tokens the model generated (trained, loss mask 1, with their
logprobs). This needs the *prefix property*: each turn's prompt starts with
the previous turn's prompt followed by its generated tokens. A worked
example, with two turns (a tool call, then the answer)::

    turn 1: prompt_token_ids     [1, 2, 3]           (system + user message)
            generation_token_ids [4, 5]              (the tool call)
            generation_log_probs [-0.1, -0.2]
    turn 2: prompt_token_ids     [1, 2, 3, 4, 5, 6, 7]   (... + tool output 6, 7)
            generation_token_ids [8]                 (the answer)
            generation_log_probs [-0.3]

    join(line) == TokenSequence(
        prompt_ids     = [1, 2, 3],
        completion_ids = [4, 5, 6, 7, 8],
        logprobs       = [-0.1, -0.2, 0.0, 0.0, -0.3],
        loss_mask      = [1, 1, 0, 0, 1],
        turns = 2,
    )
    # input_ids = prompt_ids + completion_ids = [1, 2, 3, 4, 5, 6, 7, 8]

Turn 2's prompt ``[1, 2, 3, 4, 5, 6, 7]`` starts with turn 1's prompt +
generation ``[1, 2, 3, 4, 5]``: the environment added ``[6, 7]``.

When a chat template renders an earlier turn differently from how the model
generated it (re-tokenized tool-call JSON, reasoning dropped from the
history...), the property fails: :func:`join` raises
:class:`PrefixMismatchError` (which turn, at which token), and
:func:`sequences` gives one sequence per run of turns that do extend each
other (per-turn training for the rest). Serving the model so that prompts
reuse the generated tokens (NeMo RL's vLLM server does) keeps one sequence.

Every function takes a NeMo Gym output line (a dict with ``response``), a
Responses API response dict (with ``output``), or a typed ``gymmesh.v1``
``Rollout`` or ``Response``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence, Union

from gymmesh.v1 import responses_pb2, task_pb2

__all__ = [
    "PrefixMismatchError",
    "TokenDataError",
    "TokenSequence",
    "Turn",
    "has_token_data",
    "join",
    "sequences",
    "turns",
]

TOKEN_KEYS = ("prompt_token_ids", "generation_token_ids", "generation_log_probs")

#: What the functions read: an output line, a response dict, or a typed Rollout / Response.
RolloutLike = Union[Mapping[str, Any], task_pb2.Rollout, responses_pb2.Response]


class TokenDataError(ValueError):
    """The rollout has no token data, or data that does not fit together."""


class PrefixMismatchError(TokenDataError):
    """A turn's prompt does not start with the previous turn's prompt and
    generated tokens. ``turn`` is the turn's number (from 0), ``item`` its
    output item's index, ``position`` the first token that differs."""

    def __init__(self, turn: int, item: int, position: int, expected: int | None, got: int | None) -> None:
        self.turn, self.item, self.position = turn, item, position
        what = (
            f"its prompt ends at token {position}, before the previous turn's end"
            if got is None
            else f"first difference at token {position}: expected {expected}, got {got}"
        )
        super().__init__(
            f"turn {turn} (output item {item}): its prompt does not start with the previous turn's prompt + "
            f"generated tokens ({what}); the chat template re-renders earlier turns differently from how the "
            "model generated them. Use token_data.sequences() for one sequence per consistent run of turns."
        )


@dataclass(frozen=True)
class Turn:
    """One model call of a rollout: its whole prompt, what it generated."""

    item: int
    prompt_ids: list[int]
    generation_ids: list[int]
    logprobs: list[float]


@dataclass(frozen=True)
class TokenSequence:
    """Turns joined into one training sequence.

    ``prompt_ids``: the first turn's prompt (not trained). ``completion_ids``:
    every token after it, generated (``loss_mask`` 1, ``logprobs`` the
    model's) or added by the environment between turns (``loss_mask`` 0,
    ``logprobs`` 0.0). ``turns``: how many model calls it joins."""

    prompt_ids: list[int]
    completion_ids: list[int]
    logprobs: list[float]
    loss_mask: list[int]
    turns: int

    @property
    def input_ids(self) -> list[int]:
        """``prompt_ids + completion_ids``: the whole sequence."""
        return self.prompt_ids + self.completion_ids


def _output(rollout: RolloutLike) -> Sequence[Any]:
    if isinstance(rollout, task_pb2.Rollout):
        return rollout.response.output
    if isinstance(rollout, responses_pb2.Response):
        return rollout.output
    if isinstance(rollout, Mapping):
        response = rollout.get("response", rollout)
        output = response.get("output") if isinstance(response, Mapping) else None
        if isinstance(output, list):
            return output
        raise TokenDataError("expected a NeMo Gym output line (with response.output) or a response (with output)")
    raise TypeError(f"expected an output line, a response or a gymmesh.v1 Rollout/Response, got {type(rollout).__name__}")


def _ints(value: Any, where: str) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise TokenDataError(f"{where}: expected a list of token ids")
    return list(value)


def _floats(value: Any, where: str) -> list[float]:
    if not isinstance(value, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise TokenDataError(f"{where}: expected a list of logprobs")
    return [float(v) for v in value]


def _turn_of_json(i: int, item: Any) -> Turn | None:
    if not isinstance(item, Mapping):
        return None
    present = [k for k in TOKEN_KEYS if item.get(k) is not None]
    if not present:
        return None
    if len(present) < len(TOKEN_KEYS):
        missing = ", ".join(k for k in TOKEN_KEYS if k not in present)
        raise TokenDataError(f"output item {i}: has {', '.join(present)} but not {missing}")
    where = f"output item {i}"
    return Turn(
        i,
        _ints(item["prompt_token_ids"], f"{where}.prompt_token_ids"),
        _ints(item["generation_token_ids"], f"{where}.generation_token_ids"),
        _floats(item["generation_log_probs"], f"{where}.generation_log_probs"),
    )


def _turn_of_item(i: int, item: responses_pb2.Item) -> Turn | None:
    kind = item.WhichOneof("kind")
    if kind == "message":
        holder: Any = item.message
    elif kind == "function_call":
        holder = item.function_call
    elif kind == "reasoning":
        holder = item.reasoning
    else:
        return None
    if not holder.HasField("tokens"):
        return None
    t: responses_pb2.TokenData = holder.tokens
    return Turn(i, list(t.prompt_token_ids), list(t.generation_token_ids), list(t.generation_log_probs))


def turns(rollout: RolloutLike) -> list[Turn]:
    """The rollout's model calls that carry token data, in order."""
    found: list[Turn] = []
    for i, item in enumerate(_output(rollout)):
        turn = _turn_of_item(i, item) if isinstance(item, responses_pb2.Item) else _turn_of_json(i, item)
        if turn is None:
            continue
        if len(turn.generation_ids) != len(turn.logprobs):
            raise TokenDataError(
                f"output item {i}: {len(turn.generation_ids)} generated tokens but {len(turn.logprobs)} logprobs"
            )
        found.append(turn)
    return found


def has_token_data(rollout: RolloutLike) -> bool:
    """Whether any turn of the rollout carries token data."""
    return bool(turns(rollout))


def _mismatch(k: int, turn: Turn, context: list[int]) -> PrefixMismatchError | None:
    """None when ``turn``'s prompt starts with ``context``."""
    prompt = turn.prompt_ids
    if prompt[: len(context)] == context:
        return None
    for pos, (want, got) in enumerate(zip(context, prompt)):
        if want != got:
            return PrefixMismatchError(k, turn.item, pos, want, got)
    return PrefixMismatchError(k, turn.item, len(prompt), None, None)


class _Builder:
    def __init__(self, first: Turn) -> None:
        self.prompt = list(first.prompt_ids)
        self.completion: list[int] = []
        self.logprobs: list[float] = []
        self.mask: list[int] = []
        self.turns = 0
        self.add(first, [])

    def add(self, turn: Turn, added: list[int]) -> None:
        self.completion += added
        self.logprobs += [0.0] * len(added)
        self.mask += [0] * len(added)
        self.completion += turn.generation_ids
        self.logprobs += turn.logprobs
        self.mask += [1] * len(turn.generation_ids)
        self.turns += 1

    def context(self) -> list[int]:
        return self.prompt + self.completion

    def done(self) -> TokenSequence:
        return TokenSequence(self.prompt, self.completion, self.logprobs, self.mask, self.turns)


def _no_data() -> TokenDataError:
    return TokenDataError(
        "the rollout has no token data: serve the policy model with `api: chat_completions` and "
        "`return_token_ids: true` (a vLLM backend)"
    )


def sequences(rollout: RolloutLike) -> list[TokenSequence]:
    """The turns joined as in :func:`join`, one sequence per run of turns that
    have the prefix property (one sequence when all have it)."""
    found = turns(rollout)
    if not found:
        raise _no_data()
    out: list[TokenSequence] = []
    builder = _Builder(found[0])
    for k, turn in enumerate(found[1:], 1):
        context = builder.context()
        if _mismatch(k, turn, context) is None:
            builder.add(turn, turn.prompt_ids[len(context) :])
        else:
            out.append(builder.done())
            builder = _Builder(turn)
    out.append(builder.done())
    return out


def join(rollout: RolloutLike) -> TokenSequence:
    """The rollout's turns as one training sequence (see the module's worked
    example). Raises :class:`TokenDataError` when the rollout has no token
    data and :class:`PrefixMismatchError` when a turn's prompt does not extend
    the previous turn's prompt + generation."""
    found = turns(rollout)
    if not found:
        raise _no_data()
    builder = _Builder(found[0])
    for k, turn in enumerate(found[1:], 1):
        context = builder.context()
        err = _mismatch(k, turn, context)
        if err is not None:
            raise err
        builder.add(turn, turn.prompt_ids[len(context) :])
    return builder.done()
