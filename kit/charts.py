"""Charts for the course: matplotlib Figures with Chinese labels, computed from data.

Every function takes the message frame from :func:`kit.load_dialogues`, computes what it
draws through :mod:`kit.metrics` and :mod:`kit.sentiment`, and returns a
:class:`matplotlib.figure.Figure` (no pyplot state, so a notebook shows each chart once).
Chinese fonts are set up on first use.

>>> import pandas as pd
>>> ts = pd.to_datetime(["2026-03-02 10:00:00", "2026-03-02 10:00:40",
...                      "2026-03-02 10:05:00", "2026-03-02 10:09:10"]).tz_localize("Asia/Shanghai")
>>> messages = pd.DataFrame({"dialogue_id": ["D1"] * 4, "turn": range(4), "ts": ts,
...     "role": ["customer", "agent", "customer", "agent"],
...     "text": ["在吗？", "亲，在的", "什么时候发货？", "今天18点前发出"],
...     "agent_id": ["A01"] * 4, "channel": ["taobao"] * 4, "csat": [5] * 4})
>>> response_time_by_agent(messages).axes[0].get_title()
'各客服响应时长分布'
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from kit.fonts import setup_chinese_fonts
from kit.labels import CHANNEL_LABELS, SCENARIO_LABELS

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd
    from matplotlib.figure import Figure

THREE_MINUTES_S = 180.0


@cache
def _show_figures_in_notebooks() -> None:
    """In IPython/Jupyter, display a returned Figure as a PNG (not as ``<Figure ...>``) even
    when the notebook never ran ``%matplotlib inline``. The figures are made without pyplot,
    so each one is shown exactly once."""
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import select_figure_formats
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        select_figure_formats(shell, {"png"})


def new_figure(width: float = 8.0, height: float = 4.5) -> Figure:
    """An empty Figure ready for Chinese labels that a notebook shows as a picture.

    Every chart of the kit (here and in :mod:`kit.dashboard`) starts from this.
    """
    from matplotlib.figure import Figure

    setup_chinese_fonts()
    _show_figures_in_notebooks()
    return Figure(figsize=(width, height), layout="constrained")


def _integer_ticks(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _boxes_by_rating(ax, data: pd.DataFrame, column: str, lowest: float | None = None) -> bool:
    """Draw one box of ``column`` per CSAT rating present in ``data``; False if none."""
    ratings = sorted(int(r) for r in data["csat"].unique())
    groups = [data.loc[data["csat"] == r, column].to_numpy(dtype=float).clip(lowest)
              for r in ratings]
    if groups:
        ax.boxplot(groups, tick_labels=[f"{r}星" for r in ratings])
    return bool(groups)


def response_time_by_agent(messages: pd.DataFrame,
                           service_window: Sequence[str] | None = None) -> Figure:
    """Box plot of each agent's answered response times, with the 3-minute line.

    Args:
        messages: the message frame from :func:`kit.load_dialogues`.
        service_window: e.g. ``("08:00", "23:00")`` to count only rounds opened in the
            platforms' service hours (see :func:`kit.response_rounds`).
    """
    from kit.metrics import response_rounds

    rounds = response_rounds(messages, service_window=service_window)
    answered = rounds.dropna(subset=["response_s", "agent_id"])
    agents = sorted(answered["agent_id"].unique())
    groups = [answered.loc[answered["agent_id"] == a, "response_s"].to_numpy() for a in agents]
    fig = new_figure()
    ax = fig.add_subplot()
    if groups:
        parts = ax.boxplot(groups, tick_labels=agents, flierprops={"markersize": 3})
        for line in parts["medians"]:
            line.set_gid("median")
        ax.set_yscale("log")
    ax.axhline(THREE_MINUTES_S, color="tab:red", linestyle="--", label="3分钟线（180秒）")
    ax.set_xlabel("客服")
    ax.set_ylabel("响应时长（秒，对数刻度）")
    ax.set_title("各客服响应时长分布", fontweight="bold")
    ax.legend(loc="upper left")
    return fig


def reply_rate_by_agent_channel(messages: pd.DataFrame,
                                service_window: Sequence[str] | None = None) -> Figure:
    """Heat map of the 3-minute reply rate, agents × channels, with the rate in each cell.

    Args:
        messages: the message frame from :func:`kit.load_dialogues`.
        service_window: as in :func:`response_time_by_agent`.
    """
    from kit.metrics import service_summary

    summary = service_summary(messages, by=["agent_id", "channel"],
                              service_window=service_window).reset_index()
    summary = summary.dropna(subset=["agent_id", "channel"])
    table = summary.pivot(index="agent_id", columns="channel", values="within_3min_rate")
    values = table.to_numpy(dtype=float)
    fig = new_figure()
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(table.columns)), labels=list(table.columns))
    ax.set_yticks(range(len(table.index)), labels=list(table.index))
    for row in range(values.shape[0]):
        for col in range(values.shape[1]):
            value = values[row, col]
            ax.text(col, row, "—" if value != value else f"{value:.0%}", ha="center",
                    va="center", fontsize=9)
    fig.colorbar(image, ax=ax, label="3分钟人工回复率")
    ax.set_xlabel("渠道")
    ax.set_ylabel("客服")
    ax.set_title("3分钟人工回复率：客服 × 渠道", fontweight="bold")
    return fig


def mood_trajectory_chart(messages: pd.DataFrame, dialogue_id: str,
                          max_label: int = 14) -> Figure:
    """Line chart of one dialogue's customer sentiment, each point labelled with its message.

    Args:
        messages: the message frame from :func:`kit.load_dialogues`.
        dialogue_id: the dialogue to draw.
        max_label: messages longer than this are shortened with an ellipsis in the labels.

    Raises:
        ValueError: the dialogue has no customer message in ``messages``.
    """
    from kit.sentiment import mood_trajectory

    rows = mood_trajectory(messages[messages["dialogue_id"] == dialogue_id])
    if rows.empty:
        raise ValueError(f"dialogue {dialogue_id!r} has no customer messages")
    fig = new_figure(9, 4.5)
    ax = fig.add_subplot()
    ax.plot(rows["turn"], rows["score"], marker="o", color="tab:blue")
    ax.axhspan(-1, -0.2, color="tab:red", alpha=0.06)
    ax.axhspan(0.2, 1, color="tab:green", alpha=0.06)
    for turn, score, text in zip(rows["turn"], rows["score"], rows["text"], strict=True):
        label = text if len(text) <= max_label else text[:max_label] + "…"
        ax.annotate(label, (turn, score), textcoords="offset points", xytext=(0, 8),
                    ha="center", fontsize=8)
    _integer_ticks(ax)
    ax.set_ylim(-1.1, 1.25)
    ax.set_xlabel("对话中的消息序号")
    ax.set_ylabel("顾客情绪得分（-1 负面 … 1 正面）")
    ax.set_title(f"对话 {dialogue_id} 的顾客情绪走势", fontweight="bold")
    return fig


def dialogue_overview(messages: pd.DataFrame,
                      service_window: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per dialogue: its service metrics, CSAT and the customer's final mood.

    Columns: ``dialogue_id, agent_id, channel, scenario, csat, rounds, first_response_s,
    mean_response_s, final_score`` (the sentiment of the customer's last message).
    This is the table behind :func:`sentiment_vs_response` and :func:`csat_vs_first_response`.

    Args:
        messages: the message frame from :func:`kit.load_dialogues`.
        service_window: e.g. ``("08:00", "23:00")``: count only rounds opened in service
            hours, so a message left overnight does not count as a slow first response.
    """
    from kit.metrics import service_summary
    from kit.sentiment import mood_trajectory

    per = service_summary(messages, by="dialogue_id", service_window=service_window).rename(
        columns={"first_response_median_s": "first_response_s"})
    firsts = messages.drop_duplicates("dialogue_id").set_index("dialogue_id")
    levels = [c for c in ("agent_id", "channel", "scenario", "csat") if c in firsts.columns]
    final = mood_trajectory(messages).groupby("dialogue_id", sort=False)["score"].last()
    table = firsts[levels].join(per[["rounds", "first_response_s", "mean_response_s"]])
    table["final_score"] = final
    return table.reset_index()


def sentiment_vs_response(messages: pd.DataFrame,
                          service_window: Sequence[str] | None = None) -> Figure:
    """Scatter of each dialogue's mean response time against the customer's final mood."""
    data = dialogue_overview(messages, service_window).dropna(
        subset=["mean_response_s", "final_score"])
    fig = new_figure()
    ax = fig.add_subplot()
    ax.scatter(data["mean_response_s"].clip(lower=1), data["final_score"], s=12, alpha=0.5)
    ax.axvline(THREE_MINUTES_S, color="tab:red", linestyle="--", label="3分钟线")
    ax.set_xscale("log")
    ax.set_xlabel("平均响应时长（秒，对数刻度）")
    ax.set_ylabel("顾客最后一条消息的情绪得分")
    ax.set_title("响应越慢，顾客越不满意吗？", fontweight="bold")
    ax.legend(loc="lower left")
    return fig


def csat_vs_first_response(messages: pd.DataFrame,
                           service_window: Sequence[str] | None = None) -> Figure:
    """Box plot of the first response time of dialogues at each CSAT rating (1–5)."""
    data = dialogue_overview(messages, service_window).dropna(subset=["csat", "first_response_s"])
    fig = new_figure()
    ax = fig.add_subplot()
    if _boxes_by_rating(ax, data, "first_response_s", lowest=1):
        ax.set_yscale("log")
    ax.axhline(THREE_MINUTES_S, color="tab:red", linestyle="--", label="3分钟线")
    ax.set_xlabel("顾客评分（CSAT）")
    ax.set_ylabel("首次响应时长（秒，对数刻度）")
    ax.set_title("首响时长与顾客评分", fontweight="bold")
    ax.legend(loc="upper right")
    return fig


def volume_by_scenario_channel(messages: pd.DataFrame) -> Figure:
    """Horizontal stacked bars: dialogues per scenario, split by channel (Chinese labels)."""
    import pandas as pd

    dialogues = messages.drop_duplicates("dialogue_id")
    counts = pd.crosstab(dialogues["scenario"].map(lambda k: SCENARIO_LABELS.get(k, k)),
                         dialogues["channel"].map(lambda k: CHANNEL_LABELS.get(k, k)))
    counts = counts.loc[counts.sum(axis=1).sort_values().index]
    fig = new_figure()
    ax = fig.add_subplot()
    left = pd.Series(0, index=counts.index)
    for channel in counts.columns:
        ax.barh(counts.index, counts[channel], left=left, label=channel)
        left = left + counts[channel]
    for row, total in enumerate(left):
        ax.text(total + 0.5, row, str(int(total)), va="center", fontsize=9)
    ax.set_xlabel("对话数")
    ax.set_ylabel("场景")
    ax.set_title("各场景的咨询量（按渠道分色）", fontweight="bold")
    ax.legend(title="渠道", loc="lower right")
    return fig


def agent_reply_scores(messages: pd.DataFrame) -> pd.DataFrame:
    """Score every agent message with the rubric, in the context of its dialogue.

    Each reply is scored with the dialogue's ``scenario`` and the customer's latest message
    before it as context (see :func:`kit.score_reply`).

    Returns:
        One row per agent message: ``dialogue_id, turn, agent_id, csat, text, total, passed``.
    """
    import pandas as pd

    from kit.rubric import score_reply

    rows = []
    for dialogue_id, group in messages.groupby("dialogue_id", sort=False):
        customer = None
        for row in group.itertuples(index=False):
            if row.role == "customer":
                customer = row.text
            elif row.role == "agent":
                scenario = getattr(row, "scenario", None)
                result = score_reply(row.text, customer=customer,
                                     scenario=scenario if isinstance(scenario, str) else None)
                rows.append((dialogue_id, row.turn, getattr(row, "agent_id", None),
                             getattr(row, "csat", None), row.text, result.total, result.passed))
    return pd.DataFrame(rows, columns=["dialogue_id", "turn", "agent_id", "csat", "text",
                                       "total", "passed"])


def reply_score_by_csat(messages: pd.DataFrame) -> Figure:
    """Box plot of each rated dialogue's mean rubric score of its agent replies, per CSAT."""
    from kit.rubric import default_settings

    scores = agent_reply_scores(messages).dropna(subset=["csat"])
    per_dialogue = scores.groupby("dialogue_id").agg(csat=("csat", "first"),
                                                     total=("total", "mean"))
    fig = new_figure()
    ax = fig.add_subplot()
    _boxes_by_rating(ax, per_dialogue, "total")
    ax.axhline(default_settings().pass_mark, color="tab:green", linestyle="--",
               label="及格线")
    ax.set_ylim(0, 100)
    ax.set_xlabel("顾客评分（CSAT）")
    ax.set_ylabel("该对话客服回复的平均分（话术评分）")
    ax.set_title("话术得分与顾客评分", fontweight="bold")
    ax.legend(loc="lower right")
    return fig


def roleplay_chart(transcript: pd.DataFrame) -> Figure:
    """A role-play debrief: the customer's mood by round, and the trainee's response times.

    Args:
        transcript: :meth:`kit.roleplay.Session.transcript` (``round, role, mood,
            response_s``).
    """
    customer = transcript[transcript["role"] == "customer"].groupby("round")["mood"].last()
    replies = transcript[transcript["role"] == "agent"]
    fig = new_figure(9, 4)
    mood_ax, time_ax = fig.subplots(1, 2)
    mood_ax.plot(customer.index, customer.to_numpy(), marker="o", color="tab:blue")
    mood_ax.axhline(0, color="grey", linewidth=0.8)
    mood_ax.set_ylim(-1.05, 1.05)
    mood_ax.set_xlabel("轮次")
    mood_ax.set_ylabel("顾客情绪（-1 … 1）")
    mood_ax.set_title("顾客情绪变化", fontweight="bold")
    seconds = replies["response_s"].astype(float)
    colors = ["tab:red" if s > THREE_MINUTES_S else "tab:green" for s in seconds]
    time_ax.bar(replies["round"].astype(int), seconds, color=colors)
    time_ax.axhline(THREE_MINUTES_S, color="tab:red", linestyle="--", label="3分钟线")
    time_ax.set_xlabel("轮次")
    time_ax.set_ylabel("你的回复用时（秒）")
    time_ax.set_title("你的回复速度", fontweight="bold")
    time_ax.legend(loc="upper right")
    for ax in (mood_ax, time_ax):
        _integer_ticks(ax)
    return fig
