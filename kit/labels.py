"""Chinese labels for the kit's keys: scenarios, channels and roles.

One place for the words learners see, shared by charts, widgets and notebooks.

>>> SCENARIO_LABELS["logistics_delay"], CHANNEL_LABELS["douyin"], ROLE_LABELS["bot"]
('物流延迟', '抖音', '机器人')
>>> label("presale"), label("unknown_key")
('售前咨询', 'unknown_key')
"""

from __future__ import annotations

SCENARIO_LABELS: dict[str, str] = {
    "presale": "售前咨询", "logistics_delay": "物流延迟", "quality_complaint": "质量问题",
    "refund": "退款", "after_sale": "售后", "bargain": "议价", "complaint": "投诉",
}
CHANNEL_LABELS: dict[str, str] = {
    "taobao": "淘宝", "jd": "京东", "douyin": "抖音", "pdd": "拼多多", "wechat": "微信",
    "other": "其他",
}
ROLE_LABELS: dict[str, str] = {"customer": "顾客", "agent": "客服", "bot": "机器人",
                               "system": "系统"}


def label(key: str) -> str:
    """The Chinese label of a scenario, channel or role key (the key itself if unknown)."""
    for table in (SCENARIO_LABELS, CHANNEL_LABELS, ROLE_LABELS):
        if key in table:
            return table[key]
    return key
