"""What the student reads, in the notebook's language: ``text("check.right", id="01.1")``.

Taught nowhere on its own: ``setup_notebook(seed=0, lang="zh")`` (the first line of every Chinese
notebook, written there by ``python -m course.translate build``) chooses the language once, and
every message the helpers print or draw follows it: ``check()``'s feedback, the decoding
stepper's buttons, labels, status lines and snapshot. The English of each message is the text the
English notebooks' stored outputs hold, byte for byte.

``MESSAGES[lang][key]`` is a ``str.format`` template; each key exists in every language with the
same ``{placeholders}`` (tests/helpers/test_messages.py). What stays English in both: error
messages about a helper's arguments (they name Python arguments) and the beam and speculative
panes' prose. Figures' words are translated as they are drawn (``helpers.figure_text``).
"""

from __future__ import annotations

import re

LANGS = ("en", "zh")
#: The language of every message; ``set_lang`` (``setup_notebook(lang=...)``) changes it.
LANG = "en"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        # --- check(): helpers.exercises
        "check.right": "{id}: right.",
        "check.no_answer": "{id}: no answer yet. {question}",
        "check.not_yet": "{id}: not yet ({shown}). Hint: {hint}.",
        "check.not_yet_kind": "{id}: not yet ({shown} is {kind}). Hint: {hint}.",
        "check.kind": "{given}, and the answer is {expected}",
        "check.array": "a {ndim}-D {name} of shape {shape}",
        "check.ndarray": "array",
        "check.tensor": "tensor",
        "check.list_of": "a list of {n}",
        "check.a_type": "a {name}",
        "check.an_type": "an {name}",
        "check.bool": "True or False",
        "check.int": "a whole number",
        "check.float": "a number",
        "check.str": "a string",
        "check.list_ints": "a list (or tuple) of whole numbers",
        "check.list_values": "a list (or tuple) of values",
        # --- the decoding stepper: helpers.widgets
        "stepper.start": "Press Step: the model picks the next token.",
        "stepper.pane.attention": "attention",
        "stepper.pane.cache": "KV cache",
        "stepper.pane.filters": "filters",
        "stepper.pane_tip": "show the {label} pane",
        "stepper.live_text": (
            "The decoding stepper (a live widget: run this cell in JupyterLab or VS Code)"
        ),
        "stepper.fallback_text": (
            "A snapshot of the decoding stepper, for front ends that cannot draw the widget"
        ),
        "stepper.fallback_note": (
            "The live widget is not drawn here (no running kernel, or the notebook was saved "
            "without its widget state); this is the stepper as the cell left it. Run the cell for "
            "the live widget."
        ),
        "mode.greedy": "greedy",
        "mode.sample": "sample",
        "mode.beam": "beam",
        "mode.speculative": "speculative",
        "mode_tip.greedy": "always the top candidate",
        "mode_tip.sample": "a seeded draw from the filtered distribution",
        "mode_tip.beam": "keep the best few texts: each Step extends every beam by one token",
        "mode_tip.speculative": "a draft guesses k tokens, one pass of the model checks them all",
        "control.prompt": "Prompt",
        "control.prompt_placeholder": "type a prompt, then Enter (↵ or \\n: a new line)",
        "control.apply": "Apply prompt",
        "control.apply_tip": "start again from the text in the box",
        "control.step": "Step",
        "control.step_tip": "choose one more token",
        "control.run": "Run {n}",
        "control.run_tip": "press Step N times",
        "control.undo": "Undo",
        "control.undo_tip": "go back one action",
        "control.reset": "Reset",
        "control.reset_tip": "back to the prompt alone",
        "control.temperature": "temperature",
        "control.top_k": "top-k (0 off)",
        "control.top_p": "top-p (1 off)",
        "control.seed": "seed",
        "control.beams": "beams",
        "control.length_penalty": "length pen.",
        "control.max_tokens": "max tokens",
        "control.draft_k": "draft k",
        "control.layer": "layer {i}",
        "control.head": "head {i}",
        "control.force_tip": "force token {id} ({text}) as the next token",
        "status.step": "step {n}: {verb} '{token}' (token {id}, {p})",
        "status.after_filters": "{p}, {q} after the filters",
        "status.greedy_picked": "greedy picked",
        "status.sampled": "sampled (seed {seed})",
        "status.forced": "forced",
        "status.greedy_would": "; greedy would have picked '{token}'",
        "status.ran": "ran {n} steps; last: {message}",
        "status.stopped": "stopped after {done} of {n} tokens: {error}",
        "status.no_candidate": "there is no candidate {i}: the panel shows {n}",
        "status.undone": "undone: {what}",
        "status.undone_step": "step {n} ('{token}')",
        "status.undone_prompt": "the new prompt",
        "status.undone_reset": "the reset ({n} tokens back)",
        "status.undone_last": "the last action",
        "status.reset": "reset",
        "status.prompt_same": "the prompt is unchanged",
        "status.new_prompt": "new prompt: {n} tokens (Undo goes back)",
        "status.prompt_fresh": "new prompt in use: {n} tokens (Undo goes back)",
        "status.prompt_in_use": "the prompt in use: {n} tokens, unchanged",
        "status.settings_same": "the settings are unchanged",
        "status.settings": "settings: {change} (Undo reverts)",
        "status.mode_settings": "{mode} settings: {change} (Undo reverts)",
        "status.token_mode": "{what}: only in greedy and sample modes; this is {mode} mode",
        "status.already": "already in {mode} mode",
        "status.mode_switch": "{mode} mode, from the prompt (Undo goes back)",
        "status.window_full": "the context window is full: Undo or Reset to continue",
        "status.unexpected": "unexpected {name}: {error}",
        "status.none_yet": "none yet (the prompt alone)",
        "status.last_action": "last action: {status}",
        # --- the snapshot and the panels: helpers.stepper_view
        "view.snapshot": (
            "<b>Snapshot</b> of the decoding stepper: its last state and every pane, as a static "
            "copy (no buttons). Run the notebook in JupyterLab or VS Code for the live widget."
        ),
        "view.token_title": "step {step}: token {id}, p = {p}",
        "view.token_ids": "token ids:",
        "view.step": "step",
        "view.context": "context",
        "view.tokens_of": "{n} / {window} tokens",
        "view.full": " (full: the text is {n} tokens; undo or reset)",
        "view.log_prob": "<b>log-probability</b> of the generated tokens: {logp} (probability {p})",
        "view.greedy_mark": " ← greedy",
        "view.cut_by": "cut by {name}",
        "view.click": " (click a token to force it)",
        "view.next_token": "<b>Next token</b>: ",
        "view.legend_greedy": "{box} probability; greedy takes the top one{click}",
        "view.legend_sample": "{model} model, {after} after {filters}; a draw with seed {seed} "
        "picks one{click}",
        "view.temperature": "temperature {value}",
        "view.off": "off",
        "view.window_full": "the context window is full: no next token",
    },
    "zh": {
        "check.right": "{id}：答对了。",
        "check.no_answer": "{id}：还没有答案。{question}",
        "check.not_yet": "{id}：还不对（{shown}）。提示：{hint}。",
        "check.not_yet_kind": "{id}：还不对（{shown} 是{kind}）。提示：{hint}。",
        "check.kind": "{given}，而答案应是{expected}",
        "check.array": "形状为 {shape} 的 {ndim} 维{name}",
        "check.ndarray": "数组",
        "check.tensor": "张量",
        "check.list_of": "含 {n} 项的列表",
        "check.a_type": " {name} 类型的值",
        "check.an_type": " {name} 类型的值",
        "check.bool": " True 或 False",
        "check.int": "整数",
        "check.float": "一个数",
        "check.str": "字符串",
        "check.list_ints": "由整数组成的列表（或元组）",
        "check.list_values": "由若干值组成的列表（或元组）",
        "stepper.start": "按“单步”：模型选出下一个词元。",
        "stepper.pane.attention": "注意力",
        "stepper.pane.cache": "KV 缓存",
        "stepper.pane.filters": "过滤器",
        "stepper.pane_tip": "显示“{label}”面板",
        "stepper.live_text": (
            "解码步进器（可交互的小部件：请在 JupyterLab 或 VS Code 中运行本单元）"
        ),
        "stepper.fallback_text": "解码步进器的快照，供无法绘制小部件的前端显示",
        "stepper.fallback_note": (
            "这里没有画出可交互的小部件（没有运行中的内核，或保存笔记本时没有保存小部件状态）；"
            "下面是本单元运行结束时步进器的样子。运行本单元即可得到可交互的小部件。"
        ),
        "mode.greedy": "贪心",
        "mode.sample": "采样",
        "mode.beam": "束搜索",
        "mode.speculative": "投机解码",
        "mode_tip.greedy": "总是选第一名候选",
        "mode_tip.sample": "按种子从过滤后的分布中抽取",
        "mode_tip.beam": "保留最好的几条文本：每次单步给每条束各添一个词元",
        "mode_tip.speculative": "草稿猜 k 个词元，模型一次前向传播全部检查",
        "control.prompt": "提示",
        "control.prompt_placeholder": "输入提示后按回车（↵ 或 \\n：换行）",
        "control.apply": "应用提示",
        "control.apply_tip": "从框中的文本重新开始",
        "control.step": "单步",
        "control.step_tip": "再选一个词元",
        "control.run": "运行 {n} 步",
        "control.run_tip": "按 N 次“单步”",
        "control.undo": "撤销",
        "control.undo_tip": "退回上一个操作",
        "control.reset": "重置",
        "control.reset_tip": "回到只有提示的状态",
        "control.temperature": "温度",
        "control.top_k": "top-k（0 关）",
        "control.top_p": "top-p（1 关）",
        "control.seed": "种子",
        "control.beams": "束数",
        "control.length_penalty": "长度惩罚",
        "control.max_tokens": "最多词元",
        "control.draft_k": "草稿 k",
        "control.layer": "第 {i} 层",
        "control.head": "头 {i}",
        "control.force_tip": "强制把词元 {id}（{text}）作为下一个词元",
        "status.step": "第 {n} 步：{verb} '{token}'（词元 {id}，{p}）",
        "status.after_filters": "{p}，过滤后 {q}",
        "status.greedy_picked": "贪心选了",
        "status.sampled": "采样（种子 {seed}）得到",
        "status.forced": "强制选了",
        "status.greedy_would": "；贪心本会选 '{token}'",
        "status.ran": "运行了 {n} 步；最后一步：{message}",
        "status.stopped": "写了 {n} 个词元中的 {done} 个后停下：{error}",
        "status.no_candidate": "没有候选 {i}：面板只显示 {n} 个",
        "status.undone": "已撤销：{what}",
        "status.undone_step": "第 {n} 步（'{token}'）",
        "status.undone_prompt": "新的提示",
        "status.undone_reset": "重置（退回 {n} 个词元）",
        "status.undone_last": "上一个操作",
        "status.reset": "已重置",
        "status.prompt_same": "提示没有变",
        "status.new_prompt": "新的提示：{n} 个词元（撤销可退回）",
        "status.prompt_fresh": "正在使用新的提示：{n} 个词元（撤销可退回）",
        "status.prompt_in_use": "正在使用的提示：{n} 个词元，没有变",
        "status.settings_same": "设置没有变",
        "status.settings": "设置：{change}（撤销可还原）",
        "status.mode_settings": "{mode}设置：{change}（撤销可还原）",
        "status.token_mode": "{what}：只在贪心和采样模式下可用；现在是{mode}模式",
        "status.already": "已经是{mode}模式",
        "status.mode_switch": "{mode}模式，从提示重新开始（撤销可退回）",
        "status.window_full": "上下文窗口已满：撤销或重置后才能继续",
        "status.unexpected": "意外的 {name}：{error}",
        "status.none_yet": "还没有（只有提示）",
        "status.last_action": "上一个操作：{status}",
        "view.snapshot": (
            "解码步进器的<b>快照</b>：它最后的状态和每个面板，是一份静态副本（没有按钮）。"
            "在 JupyterLab 或 VS Code 中运行笔记本即可得到可交互的小部件。"
        ),
        "view.token_title": "第 {step} 步：词元 {id}，p = {p}",
        "view.token_ids": "词元 id：",
        "view.step": "步数",
        "view.context": "上下文",
        "view.tokens_of": "{n} / {window} 个词元",
        "view.full": "（已满：文本有 {n} 个词元；请撤销或重置）",
        "view.log_prob": "生成词元的<b>对数概率</b>：{logp}（概率 {p}）",
        "view.greedy_mark": " ← 贪心",
        "view.cut_by": "被 {name} 剪掉",
        "view.click": "（点击词元可强制选它）",
        "view.next_token": "<b>下一个词元</b>：",
        "view.legend_greedy": "{box} 概率；贪心取第一名{click}",
        "view.legend_sample": "{model} 模型，{after} 经过 {filters} 之后；用种子 {seed} "
        "抽取一个{click}",
        "view.temperature": "温度 {value}",
        "view.off": "关",
        "view.window_full": "上下文窗口已满：没有下一个词元",
    },
}


def set_lang(lang: str) -> str:
    """Make ``lang`` ("en" or "zh") the language of every message from now on; returns it."""
    global LANG
    if lang not in LANGS:
        raise ValueError(f"lang={lang!r} must be one of {LANGS}")
    LANG = lang
    return lang


def text(key: str, **fields) -> str:
    """The message ``key`` in the current language, its ``{placeholders}`` filled by ``fields``."""
    return MESSAGES[LANG][key].format(**fields)


def pick(en: str, zh: str) -> str:
    """One of two texts kept side by side (an exercise's question and its Chinese), by ``LANG``."""
    return zh if LANG == "zh" else en


#: The argument checks' messages (helpers._checks) a student meets on the stepper's status line,
#: in Chinese: (pattern, template with {1}, {2}... for the groups). Raised errors stay English
#: (they name Python arguments for whoever calls the helper); what the widget shows follows LANG.
ERRORS_ZH = [
    (
        r"(\w+)=(\S+) must be a finite number > 0 \(0 < \1 < inf\)",
        "{1}={2} 必须是大于 0 的有限数（0 < {1} < inf）",
    ),
    (
        r"(\w+)=(\S+) must be a finite number >= 0 \(0 <= \1 < inf\)",
        "{1}={2} 必须是不小于 0 的有限数（0 <= {1} < inf）",
    ),
    (
        r"(\w+)=(\S+) must be a finite number \(-inf < \1 < inf\)",
        "{1}={2} 必须是有限数（-inf < {1} < inf）",
    ),
    (r"(\w+)=(\S+) must be in the range \(0, 1\]", "{1}={2} 必须在区间 (0, 1] 内"),
    (r"(\w+)=(\S+) is out of range: it must be ([^;.]+)", "{1}={2} 超出范围：须满足 {3}"),
    (r"(\w+)=(\S+) is outside the allowed range ([^;.]+)", "{1}={2} 超出允许的范围 {3}"),
    (
        r"prompt ('.*') is empty or only whitespace; type at least one word",
        "提示 {1} 是空的或只有空白；请至少输入一个词",
    ),
]


def error_text(message: str) -> str:
    """An argument check's message as the student reads it: in Chinese where LANG is "zh" and
    the message is one of ERRORS_ZH's forms (anywhere in ``message``), else unchanged."""
    if LANG != "zh":
        return message
    for pattern, zh in ERRORS_ZH:

        def fill(m, zh=zh):
            out = zh
            for i, group in enumerate(m.groups(), start=1):
                out = out.replace(f"{{{i}}}", group)
            return out

        message = re.sub(pattern, fill, message)
    return message
