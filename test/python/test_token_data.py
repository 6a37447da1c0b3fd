"""gymmesh.token_data: a rollout's turns joined into one training sequence,
on hand-made rollouts and on rollouts of the lab mesh's training model (the
mock model with vLLM's token ids: its tokenizer is UTF-8 bytes, its logprob
of token t at position i of a generation is -((t*7 + i) % 64 + 1) / 64)."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
from conftest import GYMNASIUM_DATASET, Mesh

from gymmesh import GymClient, token_data
from gymmesh.token_data import PrefixMismatchError, TokenDataError, TokenSequence
from gymmesh.v1 import agent_pb2, agent_pb2_grpc, responses_pb2, task_pb2


def item(kind: str, prompt: list[int] | None = None, generation: list[int] | None = None, logprobs: list[float] | None = None, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind, **fields}
    if prompt is not None:
        out.update(prompt_token_ids=prompt, generation_token_ids=generation, generation_log_probs=logprobs)
    return out


# The module docstring's worked example: a tool call, its output, the answer.
WORKED = {
    "responses_create_params": {"input": "weather in sf?"},
    "response": {
        "output": [
            item("function_call", [1, 2, 3], [4, 5], [-0.1, -0.2], name="get_weather", arguments="{}", call_id="c1"),
            item("function_call_output", call_id="c1", output="cold"),
            item("message", [1, 2, 3, 4, 5, 6, 7], [8], [-0.3], role="assistant", content=[]),
        ]
    },
    "reward": 1.0,
}
WORKED_SEQUENCE = TokenSequence(
    prompt_ids=[1, 2, 3],
    completion_ids=[4, 5, 6, 7, 8],
    logprobs=[-0.1, -0.2, 0.0, 0.0, -0.3],
    loss_mask=[1, 1, 0, 0, 1],
    turns=2,
)


def test_the_worked_example() -> None:
    seq = token_data.join(WORKED)
    assert seq == WORKED_SEQUENCE
    assert seq.input_ids == [1, 2, 3, 4, 5, 6, 7, 8]
    assert token_data.join(WORKED["response"]) == seq  # a response works as well as its line
    assert token_data.sequences(WORKED) == [seq]
    assert [(t.item, t.prompt_ids, t.generation_ids) for t in token_data.turns(WORKED)] == [
        (0, [1, 2, 3], [4, 5]),
        (2, [1, 2, 3, 4, 5, 6, 7], [8]),
    ]


def test_the_worked_example_typed() -> None:
    def tokens(prompt: list[int], generation: list[int], logprobs: list[float]) -> responses_pb2.TokenData:
        return responses_pb2.TokenData(prompt_token_ids=prompt, generation_token_ids=generation, generation_log_probs=logprobs)

    output = [
        responses_pb2.Item(function_call=responses_pb2.FunctionCall(name="get_weather", call_id="c1", tokens=tokens([1, 2, 3], [4, 5], [-0.125, -0.25]))),
        responses_pb2.Item(function_call_output=responses_pb2.FunctionCallOutput(call_id="c1", output="cold")),
        responses_pb2.Item(message=responses_pb2.Message(role=responses_pb2.ROLE_ASSISTANT, text="ok", tokens=tokens([1, 2, 3, 4, 5, 6, 7], [8], [-0.5]))),
    ]
    rollout = task_pb2.Rollout(response=responses_pb2.Response(output=output))
    expected = TokenSequence([1, 2, 3], [4, 5, 6, 7, 8], [-0.125, -0.25, 0.0, 0.0, -0.5], [1, 1, 0, 0, 1], 2)
    assert token_data.join(rollout) == expected
    assert token_data.join(rollout.response) == expected


def test_a_turn_of_several_items_and_reasoning() -> None:
    # Turn 1 made a reasoning item and two parallel calls: the last item carries the turn's tokens.
    line = {
        "response": {
            "output": [
                item("reasoning", summary=[]),
                item("function_call", name="a", arguments="{}", call_id="a"),
                item("function_call", [10, 11], [12, 13, 14], [-1.0, -2.0, -3.0], name="b", arguments="{}", call_id="b"),
                item("function_call_output", call_id="a", output="A"),
                item("function_call_output", call_id="b", output="B"),
                item("reasoning", [10, 11, 12, 13, 14, 15], [16], [-4.0], summary=[]),
            ]
        }
    }
    seq = token_data.join(line)
    assert (seq.prompt_ids, seq.completion_ids, seq.loss_mask, seq.turns) == ([10, 11], [12, 13, 14, 15, 16], [1, 1, 1, 0, 1], 2)
    assert seq.logprobs == [-1.0, -2.0, -3.0, 0.0, -4.0]


def test_a_prompt_that_does_not_extend_the_previous_turn() -> None:
    line = json.loads(json.dumps(WORKED))
    line["response"]["output"][2]["prompt_token_ids"] = [1, 2, 3, 4, 9, 6, 7]  # token 4 re-rendered as 9
    with pytest.raises(PrefixMismatchError) as err:
        token_data.join(line)
    e = err.value
    assert isinstance(e, TokenDataError) and isinstance(e, ValueError)
    assert (e.turn, e.item, e.position) == (1, 2, 4)
    assert "turn 1 (output item 2)" in str(e) and "expected 5, got 9" in str(e) and "sequences()" in str(e)
    # One sequence per consistent run of turns instead.
    assert token_data.sequences(line) == [
        TokenSequence([1, 2, 3], [4, 5], [-0.1, -0.2], [1, 1], 1),
        TokenSequence([1, 2, 3, 4, 9, 6, 7], [8], [-0.3], [1], 1),
    ]

    line["response"]["output"][2]["prompt_token_ids"] = [1, 2, 3, 4]  # shorter than the previous turn
    with pytest.raises(PrefixMismatchError, match="its prompt ends at token 4"):
        token_data.join(line)


def test_bad_token_data() -> None:
    assert not token_data.has_token_data({"response": {"output": [item("message", role="assistant", content=[])]}})
    with pytest.raises(TokenDataError, match="return_token_ids: true"):
        token_data.join({"response": {"output": [item("message", role="assistant", content=[])]}})
    with pytest.raises(TokenDataError, match="return_token_ids: true"):
        token_data.sequences({"response": {"output": []}})
    partial = {"output": [{"type": "message", "prompt_token_ids": [1], "generation_token_ids": [2]}]}
    with pytest.raises(TokenDataError, match="output item 0: has prompt_token_ids, generation_token_ids but not generation_log_probs"):
        token_data.turns(partial)
    uneven = {"output": [item("message", [1], [2, 3], [-1.0])]}
    with pytest.raises(TokenDataError, match="2 generated tokens but 1 logprobs"):
        token_data.join(uneven)
    with pytest.raises(TokenDataError, match="prompt_token_ids: expected a list of token ids"):
        token_data.join({"output": [item("message", ["a"], [2], [-1.0])]})  # type: ignore[list-item]
    with pytest.raises(TokenDataError, match="response.output"):
        token_data.join({"reward": 1})
    with pytest.raises(TypeError):
        token_data.join(42)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Rollouts of the lab mesh's training model


def decode(ids: list[int]) -> str:
    return bytes(ids).decode()


def mock_logprob(token: int, position: int) -> float:
    return -(((token * 7 + position) % 64) + 1) / 64


def segments(seq: TokenSequence) -> list[tuple[int, list[int], list[float]]]:
    """The completion as runs of one loss-mask value: (mask, ids, logprobs)."""
    out: list[tuple[int, list[int], list[float]]] = []
    for token, mask, lp in zip(seq.completion_ids, seq.loss_mask, seq.logprobs):
        if not out or out[-1][0] != mask:
            out.append((mask, [], []))
        out[-1][1].append(token)
        out[-1][2].append(lp)
    return out


def test_a_multi_turn_rollout_joins_into_one_sequence(lab: Mesh) -> None:
    """The gymnasium environment's text turns: each prompt extends the last."""
    row = json.loads(GYMNASIUM_DATASET.read_text().splitlines()[0])
    with GymClient(lab.url("rollout"), timeout=60) as client:
        [result] = list(client.collect([row], agent="gymnasium_agent"))
    assert result.ok and result.line is not None, result.error
    line = result.line
    seq = token_data.join(line)
    assert seq.turns == 3
    assert len(seq.completion_ids) == len(seq.logprobs) == len(seq.loss_mask)
    answer = "Hello from the mock model."
    assert "What is the capital of France?" in decode(seq.prompt_ids)
    runs = segments(seq)
    assert [mask for mask, _, _ in runs] == [1, 0, 1, 0, 1]
    assert [decode(ids) for mask, ids, _ in runs if mask] == [answer] * 3
    # What the environment added: each follow-up question (in the template's markers).
    added = [decode(ids) for mask, ids, _ in runs if not mask]
    assert "What is the approximate population of that city?" in added[0] and answer not in added[0]
    assert "Name one famous landmark there." in added[1] and answer not in added[1]
    for mask, ids, logprobs in runs:
        expected = [mock_logprob(t, i) for i, t in enumerate(ids)] if mask else [0.0] * len(ids)
        assert logprobs == expected
    # The whole sequence is the last turn's prompt plus its generation.
    last = [o for o in line["response"]["output"] if "prompt_token_ids" in o][-1]
    assert seq.input_ids == last["prompt_token_ids"] + last["generation_token_ids"]


def test_typed_and_json_token_data_agree(lab: Mesh) -> None:
    row = GYMNASIUM_DATASET.read_text().splitlines()[1]
    with grpc.insecure_channel(lab.url("gymnasium_agent").removeprefix("http://")) as channel:
        stub = agent_pb2_grpc.AgentServiceStub(channel)
        res = stub.Run(agent_pb2.RunRequest(row_json=row, want_output_line=True), timeout=30)
    typed, from_json = token_data.join(res.rollout), token_data.join(json.loads(res.output_line_json))
    assert typed == from_json and typed.turns == 2


def test_a_tool_rollout_joins_across_the_tool_step(lab: Mesh, dataset_rows: list[dict[str, Any]]) -> None:
    """A tool call, its output, the answer: one sequence whose environment part is the tool's output."""
    with GymClient(lab.url("weather_agent"), timeout=30) as client:
        line = client.run(dataset_rows[0]).line
    assert line is not None
    call, result, answer = line["response"]["output"]
    assert "prompt_token_ids" in call and "prompt_token_ids" not in result and "prompt_token_ids" in answer
    seq = token_data.join(line)
    assert seq.turns == 2 and token_data.sequences(line) == [seq]
    assert seq.prompt_ids == call["prompt_token_ids"]
    assert "what's it like in sf?" in decode(seq.prompt_ids)
    (m1, generated1, lp1), (m2, added, lp2), (m3, generated2, lp3) = segments(seq)
    assert (m1, m2, m3) == (1, 0, 1)
    assert decode(generated1) == "get_weather" + call["arguments"]
    assert result["output"] in decode(added) and lp2 == [0.0] * len(added)
    assert decode(generated2) == answer["content"][0]["text"]
    assert lp1 == [mock_logprob(t, i) for i, t in enumerate(generated1)]
    assert lp3 == [mock_logprob(t, i) for i, t in enumerate(generated2)]
    assert seq.input_ids == answer["prompt_token_ids"] + answer["generation_token_ids"]
