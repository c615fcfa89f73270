"""The six ordered rules of docs/concepts.md, "Scoring", each shown on the smallest runs that exercise it."""

from pathlib import Path

import pytest

from conftest import query, run_cli, ts, write_streams


def call(run, minute=0, status="ok", finish="stop", user="Fix the login bug", completion="Patched login."):
    return {"call_id": f"c-{run}-{minute}", "run_id": run, "ts": ts(minute), "model": "m1",
            "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": user}],
            "completion": completion, "status": status, "finish_reason": finish}


def outcome(run, status, minute=1, task="Fix the login bug"):
    return {"run_id": run, "ts": ts(minute), "task": task, "status": status}


def suite_run(run, passed, failed, minute=2):
    return {"test_run_id": f"t-{run}-{minute}", "run_id": run, "ts": ts(minute), "passed": passed, "failed": failed}


def review(run, decision, minute=5, edited=None):
    return {"review_id": f"r-{run}-{minute}", "run_id": run, "ts": ts(minute), "decision": decision,
            "edited_response": edited}


STREAMS = {
    "gateway_calls": [
        call("accept-outcome"),
        call("human-edit"),
        call("human-reject"),
        call("human-unsure"),
        call("latest-review-wins"),
        call("conflict"),
        call("reject-tool"),
        call("reject-gateway", status="error", completion=""),
        call("partial-length", finish="length"),
        call("partial-feedback"),
        call("no-signal"),
        call("accept-merged"),
        call("reject-reverted"),
        call("accept-audit"),
        call("reject-fabricated"),
        call("tests-mixed"),
        call("tests-pass"),
        call("tests-fail"),
        call("tie-on-ts"),
        call("precedence", user="the user message"),
        call("precedence", minute=3, user="the final user message", completion="final completion"),
        call("reject-empty", completion="   "),
    ],
    "task_outcomes": [
        outcome("accept-outcome", "success"),
        outcome("human-edit", "failure"),
        outcome("human-reject", "success"),
        outcome("conflict", "success"),
        outcome("reject-empty", "success"),
    ],
    "human_reviews": [
        review("human-edit", "edit", edited="The reviewer's better answer."),
        review("human-reject", "reject"),
        review("human-unsure", "unsure"),
        review("latest-review-wins", "reject", minute=5),
        review("latest-review-wins", "accept", minute=6),
    ],
    "test_runs": [
        suite_run("conflict", 0, 4),
        suite_run("tests-mixed", 10, 2),
        suite_run("tests-pass", 10, 0),
        suite_run("tests-fail", 0, 3),
        # same ts: the later line wins
        suite_run("tie-on-ts", 0, 3, minute=7),
        suite_run("tie-on-ts", 12, 0, minute=7) | {"test_run_id": "t-tie-b"},
    ],
    "tool_runs": [{"tool_run_id": "tool-1", "run_id": "reject-tool", "ts": ts(3), "exit_code": 2}],
    "user_feedback": [
        {"feedback_id": "f1", "run_id": "partial-feedback", "ts": ts(4), "rating": "down"},
        {"feedback_id": "f2", "run_id": "orphan-feedback", "ts": ts(4), "rating": "up"},
    ],
    "auto_apply": [
        {"apply_id": "a1", "run_id": "accept-merged", "ts": ts(4), "task": "Apply the fix",
         "patch": "+fixed", "applied": True, "merged": True, "reverted": False},
        {"apply_id": "a2", "run_id": "reject-reverted", "ts": ts(4), "task": "Apply the fix",
         "patch": "+broken", "applied": True, "merged": True, "reverted": True},
        {"apply_id": "a3", "run_id": "precedence", "ts": ts(4), "task": "The apply task", "patch": "+the patch",
         "applied": True, "merged": True, "reverted": False},
    ],
    "pr_audits": [
        {"audit_id": "au1", "run_id": "accept-audit", "ts": ts(4), "verdict": "approve", "grounded": True,
         "fabricated_refs": 0},
        {"audit_id": "au2", "run_id": "reject-fabricated", "ts": ts(4), "verdict": "approve", "grounded": True,
         "fabricated_refs": 2},
    ],
    "escalations": [
        {"escalation_id": "esc1", "run_id": "esc-origin", "ts": ts(8), "task": "Rotate the key",
         "local_model": "small", "local_output": "I'm not sure.", "local_passed": False,
         "cloud_model": "big", "cloud_output": "Run rotate-key --service auth.", "cloud_passed": True},
    ],
}

EXPECTED = {
    "accept-outcome": ("accepted", ["accept_task_success", "rule_5_accept"]),
    "human-edit": ("accepted", ["human_edit", "reject_task_failure", "rule_1_human"]),
    "human-reject": ("rejected", ["human_reject", "accept_task_success", "rule_1_human"]),
    "human-unsure": ("needs_human_review", ["human_unsure", "rule_1_human"]),
    "latest-review-wins": ("accepted", ["human_accept", "rule_1_human"]),
    "conflict": ("needs_human_review", ["reject_tests_failed", "accept_task_success", "rule_2_conflict"]),
    "reject-tool": ("rejected", ["reject_tool_exit", "rule_3_reject"]),
    "reject-gateway": ("rejected", ["reject_gateway_error", "reject_empty_response", "rule_3_reject"]),
    "reject-empty": ("needs_human_review", ["reject_empty_response", "accept_task_success", "rule_2_conflict"]),
    "partial-length": ("partially_accepted", ["partial_finish_length", "rule_4_partial"]),
    "partial-feedback": ("partially_accepted", ["partial_feedback_down", "rule_4_partial"]),
    "no-signal": ("needs_human_review", ["rule_6_no_signal"]),
    "accept-merged": ("accepted", ["accept_patch_merged", "rule_5_accept"]),
    "reject-reverted": ("rejected", ["reject_patch_reverted", "rule_3_reject"]),
    "accept-audit": ("accepted", ["accept_audit_grounded", "rule_5_accept"]),
    "reject-fabricated": ("needs_human_review", ["reject_fabricated_refs", "accept_audit_grounded", "rule_2_conflict"]),
    "tests-mixed": ("partially_accepted", ["partial_tests_mixed", "rule_4_partial"]),
    "tests-pass": ("accepted", ["accept_tests_passed", "rule_5_accept"]),
    "tests-fail": ("rejected", ["reject_tests_failed", "rule_3_reject"]),
    "tie-on-ts": ("accepted", ["accept_tests_passed", "rule_5_accept"]),
    "precedence": ("accepted", ["accept_patch_merged", "rule_5_accept"]),
    "orphan-feedback": ("accepted", ["accept_feedback_up", "rule_5_accept"]),
    "esc1:local": ("rejected", ["reject_escalation_failed", "rule_3_reject"]),
    "esc1:cloud": ("accepted", ["accept_escalation_passed", "rule_5_accept"]),
}


@pytest.fixture(scope="module")
def scored_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("scoring")
    write_streams(home, STREAMS)
    result = run_cli("run-all", home=home)
    assert result.code == 0, result.stderr
    return home


def test_every_run_gets_its_expected_category_and_reasons(scored_home):
    got = {run: (category, list(reasons)) for run, category, reasons in
           query(scored_home, "select run_id, category, reasons from scored_runs")}
    assert got == EXPECTED


def test_human_edit_replaces_the_response(scored_home):
    assert query(scored_home, "select response from scored_runs where run_id = 'human-edit'") == [
        ("The reviewer's better answer.",)
    ]


def test_instruction_and_response_follow_precedence(scored_home):
    # the apply task beats the gateway's user message; the patch beats the completion
    assert query(scored_home, "select instruction, response from scored_runs where run_id = 'precedence'") == [
        ("The apply task", "+the patch")
    ]
    assert query(scored_home, "select instruction, response from scored_runs where run_id = 'no-signal'") == [
        ("Fix the login bug", "Patched login.")
    ]


def test_escalation_yields_two_runs_sharing_the_task(scored_home):
    rows = query(scored_home, "select run_id, instruction, response from scored_runs where run_id like 'esc1:%' order by 1")
    assert rows == [("esc1:cloud", "Rotate the key", "Run rotate-key --service auth."),
                    ("esc1:local", "Rotate the key", "I'm not sure.")]


def test_orphan_run_is_quarantined_not_exported(scored_home):
    assert query(
        scored_home, "select reason from quarantine where list_contains(provenance.run_ids, 'orphan-feedback')"
    ) == [("orphan_reference",)]


def test_preference_pairs_accepted_over_rejected_on_the_same_prompt(scored_home):
    # many runs share "Fix the login bug" but their texts are identical, so they do not pair
    assert query(
        scored_home, "select chosen_run_id, rejected_run_id, prompt from export_preference order by 1"
    ) == [("accept-merged", "reject-reverted", "Apply the fix"), ("esc1:cloud", "esc1:local", "Rotate the key")]


def test_scored_runs_carry_provenance_and_rule_version(scored_home):
    rows = query(scored_home, "select len(evidence_ids), rule_version from scored_runs where run_id = 'precedence'")
    assert rows == [(3, "2026.11.1")]


def test_scored_runs_are_partitioned_by_day(scored_home):
    (n,) = query(scored_home, f"select count(*) from read_parquet('{scored_home}/data/scored-runs/*/*.parquet')")[0]
    assert n == len(EXPECTED)
