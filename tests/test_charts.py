"""Charts: built from the sample corpus, values computed from the data, Chinese renders."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import kit
from kit import charts


@pytest.fixture(scope="module")
def messages() -> pd.DataFrame:
    return kit.load_dialogues(kit.dataset_path("dialogues.jsonl"))


def _render(fig) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    return [str(w.message) for w in caught]


def test_response_time_boxes_hold_each_agents_answered_rounds(messages):
    fig = charts.response_time_by_agent(messages)
    assert not [w for w in _render(fig) if "Glyph" in w]
    ax = fig.axes[0]
    rounds = kit.response_rounds(messages).dropna(subset=["response_s", "agent_id"])
    agents = sorted(rounds["agent_id"].unique())
    assert [t.get_text() for t in ax.get_xticklabels()] == agents
    medians = [line.get_ydata()[0] for line in ax.lines if line.get_gid() == "median"]
    expected = rounds.groupby("agent_id")["response_s"].median().sort_index().to_numpy()
    np.testing.assert_allclose(medians, expected)
    assert any(np.allclose(line.get_ydata(), 180) for line in ax.lines)


def test_reply_rate_heatmap_cells_equal_the_service_summary(messages):
    fig = charts.reply_rate_by_agent_channel(messages)
    assert not [w for w in _render(fig) if "Glyph" in w]
    ax = fig.axes[0]
    summary = kit.service_summary(messages, by=["agent_id", "channel"]).reset_index()
    summary = summary.dropna(subset=["agent_id", "channel"])
    table = summary.pivot(index="agent_id", columns="channel", values="within_3min_rate")
    np.testing.assert_allclose(ax.images[0].get_array().filled(np.nan), table.to_numpy(float))
    shown = {t.get_text() for t in ax.texts}
    assert f"{table.iloc[0].dropna().iloc[0]:.0%}" in shown


def test_mood_chart_plots_the_customer_scores_of_one_dialogue(messages):
    dialogue_id = messages["dialogue_id"].iloc[0]
    fig = charts.mood_trajectory_chart(messages, dialogue_id)
    assert not [w for w in _render(fig) if "Glyph" in w]
    expected = kit.sentiment.mood_trajectory(messages[messages["dialogue_id"] == dialogue_id])
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), expected["score"])
    assert dialogue_id in fig.axes[0].get_title()


def test_mood_chart_rejects_an_unknown_dialogue(messages):
    with pytest.raises(ValueError, match="NOPE"):
        charts.mood_trajectory_chart(messages, "NOPE")


def test_dialogue_overview_has_one_row_per_dialogue(messages):
    table = charts.dialogue_overview(messages)
    assert len(table) == messages["dialogue_id"].nunique()
    one = table.iloc[0]
    first = kit.service_summary(messages[messages["dialogue_id"] == one["dialogue_id"]])
    assert one["first_response_s"] == pytest.approx(first["first_response_median_s"].iloc[0],
                                                    nan_ok=True)


def test_scatter_and_csat_charts_use_every_complete_dialogue(messages):
    table = charts.dialogue_overview(messages)
    fig = charts.sentiment_vs_response(messages)
    points = fig.axes[0].collections[0].get_offsets()
    assert len(points) == len(table.dropna(subset=["mean_response_s", "final_score"]))
    fig = charts.csat_vs_first_response(messages)
    rated = table.dropna(subset=["csat", "first_response_s"])
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == [f"{int(r)}星" for r in sorted(rated["csat"].unique())]
    assert not [w for w in _render(fig) if "Glyph" in w]


def test_volume_bars_count_dialogues_per_scenario(messages):
    fig = charts.volume_by_scenario_channel(messages)
    assert not [w for w in _render(fig) if "Glyph" in w]
    ax = fig.axes[0]
    totals = {t.get_text() for t in ax.texts}
    per_scenario = messages.drop_duplicates("dialogue_id")["scenario"].value_counts()
    assert totals == {str(n) for n in per_scenario}
    assert "物流延迟" in [t.get_text() for t in ax.get_yticklabels()]


def test_reply_scores_cover_every_agent_message(messages):
    some = messages[messages["dialogue_id"].isin(messages["dialogue_id"].unique()[:20])]
    scores = charts.agent_reply_scores(some)
    assert len(scores) == (some["role"] == "agent").sum()
    first = scores.iloc[0]
    assert first["total"] == kit.rubric.score_reply(
        first["text"], customer=_customer_before(some, first),
        scenario=some.loc[some["dialogue_id"] == first["dialogue_id"], "scenario"].iloc[0]).total
    fig = charts.reply_score_by_csat(some)
    assert fig.axes[0].get_ylim() == (0, 100)


def _customer_before(messages, reply) -> str | None:
    rows = messages[(messages["dialogue_id"] == reply["dialogue_id"])
                    & (messages["turn"] < reply["turn"]) & (messages["role"] == "customer")]
    return rows["text"].iloc[-1] if len(rows) else None


def test_roleplay_chart_shows_mood_per_round_and_each_reply_time():
    from kit.roleplay import play

    session = play("anxious_late_parcel", ["亲，非常抱歉让您久等了，我马上帮您查物流",
                                           "已经联系快递加急，今天18点前给您回复"],
                   response_s=[40, 200])
    fig = charts.roleplay_chart(session.transcript())
    assert not [w for w in _render(fig) if "Glyph" in w]
    mood_ax, time_ax = fig.axes
    transcript = session.transcript()
    last_mood = transcript[transcript["role"] == "customer"].groupby("round")["mood"].last()
    np.testing.assert_allclose(mood_ax.lines[0].get_ydata(), last_mood)
    assert [bar.get_height() for bar in time_ax.patches] == [40.0, 200.0]


def test_a_returned_chart_displays_as_a_picture_in_a_fresh_kernel():
    """No `%matplotlib inline` and no pyplot import: the last-line Figure still shows as PNG."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import kit\nimport kit.charts\n"
        "msgs = kit.load_dialogues(kit.dataset_path('dialogues.jsonl'))"),
        nbformat.v4.new_code_cell("kit.charts.response_time_by_agent(msgs)")]
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    outputs = nb.cells[1].outputs
    assert [o["output_type"] for o in outputs] == ["execute_result"]
    assert "image/png" in outputs[0]["data"]


def test_service_window_keeps_overnight_waits_out_of_first_response(messages):
    whole_day = charts.dialogue_overview(messages)
    in_hours = charts.dialogue_overview(messages, kit.PLATFORM_SERVICE_WINDOW)
    assert in_hours["first_response_s"].max() < whole_day["first_response_s"].max()
    expected = kit.service_summary(messages, by="dialogue_id",
                                   service_window=kit.PLATFORM_SERVICE_WINDOW)
    np.testing.assert_allclose(in_hours.set_index("dialogue_id")["first_response_s"],
                               expected["first_response_median_s"].loc[in_hours["dialogue_id"]])
