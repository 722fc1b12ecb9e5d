"""What the student reads, in the notebook's language: ``text("check.right", id="01.1")``.

Taught nowhere on its own: ``setup_notebook(seed=0, lang="zh")`` (the first line of every Chinese
notebook, written there by ``python -m course.translate build``) chooses the language once, and
every message the helpers print or draw follows it: ``check()``'s feedback, the decoding
stepper's buttons, labels, status lines and snapshot, the panes inside a step (attention, KV
cache, filters) and the beam and speculative modes' views (``helpers.stepper_panes``,
``helpers.stepper_modes``), and the sentence of a figure's alt text (``helpers.plots.
figure_alt``; ``notebook_lang`` tells a stored notebook's language). The English of each message
is the text the English notebooks' stored outputs hold, byte for byte.

``MESSAGES[lang][key]`` is a ``str.format`` template; each key exists in every language with the
same ``{placeholders}`` (tests/helpers/test_messages.py). What stays English in both: error
messages about a helper's arguments (they name Python arguments), and the names a settings note
gives ("num_beams 3 -> 4"). Figures' words are translated as they are drawn
(``helpers.figure_text``).
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
        # --- the panes inside a step: helpers.stepper_panes (greedy and sample too)
        "pane.attention_cell": "position {i}: {token}, weight {weight}",
        "pane.attention_title": (
            "<b>Attention</b> of the newest token <code>{token}</code> (position {position}) in "
            "layer {layer}, head {head}: its {n} weights sum to 1; the most, {top}, on "
            "<code>{best}</code> (position {best_position})."
        ),
        "pane.heads_last": "the last {n} of {total} positions",
        "pane.heads_all": "all {total} positions",
        "pane.heads_title": (
            "<b>All heads</b>: each cell is one head's weights over {shown} (darker = more), "
            "and the token it weights most."
        ),
        "pane.bytes": "{n} bytes ({kib} KiB)",
        "pane.cache_formula": (
            "{layers} layers × 2 (key, value) × {heads} heads × {dim} values × {size} bytes = "
            "{per_position} bytes per position"
        ),
        "pane.cache_measured": " (the cache's tensors: {n} bytes)",
        "pane.cache_next": (
            "<b>Next step</b> reads the {n} cached positions ({size} bytes) and runs 1 new token "
            "through the layers, adding {added} bytes."
        ),
        "pane.cache_next_pick": "The next Step picks token {n} from these scores; then",
        "pane.cache_text_is": "The text is {n} tokens:",
        "pane.cache_full": (
            "<b>The window is full.</b> {now} this stepper stops (Undo or Reset). A sliding "
            "window (<code>generate_stepwise(crop=True)</code>) would drop the oldest token "
            "<code>{dropped}</code> (id {id}); every kept token then sits at a new position, so "
            "all {window} positions are computed again instead of read from the cache."
        ),
        "pane.cache_title": (
            "<b>KV cache</b>: {positions} positions, {size}{measured}; {positions} / {window} of "
            "the context window ({pct}%)"
        ),
        "pane.cut": "cut",
        "pane.filters_greedy": (
            "Greedy takes the top score; these stages shape the draw only when sampling."
        ),
        "pane.filters_sample": "The draw uses the last column.",
        "pane.filters_title": (
            "<b>Filters</b>, in the order transformers' <code>generate</code> applies them: each "
            "candidate's probability after each stage. {note}"
        ),
        "pane.token": "token",
        "pane.tokens_left": "tokens left",
        "pane.repetition_penalty": "repetition penalty {value}",
        "pane.no_pass": "the context window is full: no pass ran for this text, so no {pane}",
        "pane.no_filters": "{mode} mode scores with the model's plain softmax: no filter applies",
        # --- the beam and speculative modes: helpers.stepper_panes and helpers.stepper_modes
        "kind.bonus": "bonus",
        "kind.correction": "correction",
        "mode.best_finished": "the best finished text",
        "mode.best_beam": "the best beam so far",
        "mode.guess_kept": "round {i}: the draft's guess, kept",
        "mode.model_token": "round {i}: the model's {kind}",
        "mode.beam_stats": (
            "<b>beam step</b> {steps} of at most {max} &nbsp;·&nbsp; {beams} beams, length "
            "penalty {penalty}"
        ),
        "mode.round_stats": (
            "<b>round</b> {steps} &nbsp;·&nbsp; <b>{passes}</b> model passes for <b>{n}</b> "
            "tokens (plain greedy: {n} passes) &nbsp;·&nbsp; draft guesses kept: {kept} of "
            "{proposed}"
        ),
        "mode.nothing_yet": "(nothing yet)",
        "beam.prompt_alone": "the prompt alone: Step scores every next token",
        "beam.ended_length": "length",
        "beam.done": (
            "<b>Done</b>: the best finished text is the answer (the same as "
            "<code>generate(num_beams={beams})</code>)."
        ),
        "beam.keeps": "Each Step keeps the {beams} best (beam, next token) pairs of one pass.",
        "beam.col_beam": "beam",
        "beam.col_from": "from",
        "beam.col_text": "new text",
        "beam.col_log_prob": "log-prob",
        "beam.finished": (
            "<b>Finished</b> ({n} of {beams} kept; score = log-prob / length<sup>{penalty}</sup>)"
        ),
        "beam.col_finished_text": "text",
        "beam.col_ended_by": "ended by",
        "beam.col_score": "score",
        "beam.title": "<b>Beams</b> after step {n}, best first. {verdict}",
        "spec.start": (
            "<b>Speculative decoding</b>: each Step is one round: the draft guesses {k} tokens, "
            "one pass of the model checks them all and adds its own next token."
        ),
        "spec.kept": "kept: the model would pick it too",
        "spec.rejected": "rejected",
        "spec.model_kind": "the model's {kind}",
        "spec.why_bonus": (
            "every guess was right, so the same pass gives one more token: a <b>bonus</b>"
        ),
        "spec.why_correction": (
            "guess {i} differs from the model's choice: its <b>correction</b> replaces it and "
            "the later guesses are dropped"
        ),
        "spec.earlier": (
            "round {i}: kept {kept} of {proposed} guesses + the model's {kind} (+{added})"
        ),
        "spec.title": (
            "<b>Round {i}</b>: the draft guessed {proposed}, the model kept {kept}; {why}."
        ),
        "spec.passes": (
            "<b>{passes}</b> model passes so far for <b>{n}</b> tokens; plain greedy decoding "
            "needs {n}."
        ),
        "status.beam_done": (
            "beam step {n}: the search is over; the best text is '{text}' (score {score})"
        ),
        "status.beam_step": (
            "beam step {n}: best beam '{text}' (log-prob {log_prob}); {finished} finished"
        ),
        "status.round": (
            "round {n}: the draft guessed {proposed}, the model kept {kept} and added '{token}' "
            "({kind}); {passes} model passes for {tokens} tokens"
        ),
        "status.undone_switch": "the switch to {mode} mode",
        "status.undone_beam_step": "beam step {n}",
        "status.undone_round": "round {n}",
        "status.undone_mode_reset": "the reset ({n} steps back)",
        "status.what_force": "forcing a token",
        "status.what_figure": "the candidate figure",
        "view.filters_join": ", ",
        # --- figures' alt text: helpers.plots.figure_alt
        "alt.figure": "Figure",
        "alt.stop": ".",
        "alt.a": " A {what}",
        "alt.an": " An {what}",
        "alt.bar": "bar chart",
        "alt.heatmap": "heat map",
        "alt.scatter": "line chart",
        "alt.markers": "scatter plot",
        "alt.table": "table",
        "alt.other": "{kind} plot",
        "alt.and": " and ",
        "alt.comma": ", ",
        "alt.semicolon": "; ",
        "alt.of": "{kinds} of {names}",
        "alt.of_series": "{kinds} of {n} series ({names}, ...)",
        "alt.diagram": "diagram",
        "alt.diagram_labels": "diagram: {labels}",
        "alt.axis": "{axis}: {title}",
        "alt.axes": " ({axes})",
        "alt.panels": ", in panels: {panels}",
        "alt.slider": ", with a slider over {n} views",
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
        "control.head": "第 {i} 头",
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
        "pane.attention_cell": "位置 {i}：{token}，权重 {weight}",
        "pane.attention_title": (
            "最新词元 <code>{token}</code>（位置 {position}）在第 {layer} 层、第 {head} 头的"
            "<b>注意力</b>：它的 {n} 个权重之和为 1；最大的权重 {top} 落在 <code>{best}</code>"
            "（位置 {best_position}）上。"
        ),
        "pane.heads_last": "最后 {n} 个位置（共 {total} 个）",
        "pane.heads_all": "全部 {total} 个位置",
        "pane.heads_title": (
            "<b>所有的头</b>：每一格是一个头在{shown}上的权重（颜色越深权重越大），"
            "以及它权重最大的那个词元。"
        ),
        "pane.bytes": "{n} 字节（{kib} KiB）",
        "pane.cache_formula": (
            "{layers} 层 × 2（键和值）× {heads} 个头 × {dim} 个数 × {size} 字节 = "
            "每个位置 {per_position} 字节"
        ),
        "pane.cache_measured": "，缓存张量实测 {n} 字节",
        "pane.cache_next": (
            "<b>下一步</b>读取缓存中的 {n} 个位置（{size} 字节），只让 1 个新词元穿过各层，"
            "缓存再增加 {added} 字节。"
        ),
        "pane.cache_next_pick": "下一次单步根据这些分数选出第 {n} 个词元，然后",
        "pane.cache_text_is": "文本已有 {n} 个词元，",
        "pane.cache_full": (
            "<b>窗口已满。</b>{now}步进器停下（撤销或重置后才能继续）。滑动窗口"
            "（<code>generate_stepwise(crop=True)</code>）会丢掉最早的词元 <code>{dropped}</code>"
            "（id {id}）；留下的每个词元都换到了新的位置，所以全部 {window} 个位置都要重新计算，"
            "不能从缓存中读取。"
        ),
        "pane.cache_title": (
            "<b>KV 缓存</b>：{positions} 个位置，{size}{measured}；占上下文窗口的 "
            "{positions} / {window}（{pct}%）"
        ),
        "pane.cut": "已剪掉",
        "pane.filters_greedy": "贪心直接取分数最高的词元；这些阶段只在采样时影响抽取。",
        "pane.filters_sample": "抽取用的是最后一列。",
        "pane.filters_title": (
            "<b>过滤器</b>，按 transformers 的 <code>generate</code> 应用它们的顺序排列："
            "每个候选经过每个阶段之后的概率。{note}"
        ),
        "pane.token": "词元",
        "pane.tokens_left": "剩下的词元",
        "pane.repetition_penalty": "重复惩罚 {value}",
        "pane.no_pass": "上下文窗口已满：这段文本没有运行前向传播，所以没有{pane}可看",
        "pane.no_filters": "{mode}模式直接用模型原始的 softmax 打分：不经过任何过滤器",
        "kind.bonus": "附赠词元",
        "kind.correction": "更正",
        "mode.best_finished": "最好的完成文本",
        "mode.best_beam": "目前最好的束",
        "mode.guess_kept": "第 {i} 轮：草稿的猜测，被保留",
        "mode.model_token": "第 {i} 轮：模型的{kind}",
        "mode.beam_stats": (
            "<b>束搜索步数</b> {steps}（最多 {max}）&nbsp;·&nbsp; {beams} 条束，长度惩罚 {penalty}"
        ),
        "mode.round_stats": (
            "<b>轮数</b> {steps} &nbsp;·&nbsp; <b>{passes}</b> 次模型前向传播写出 <b>{n}</b> "
            "个词元（普通贪心：{n} 次）&nbsp;·&nbsp; 草稿的猜测被保留：{kept} / {proposed}"
        ),
        "mode.nothing_yet": "（还没有）",
        "beam.prompt_alone": "只有提示：单步会给每个可能的下一个词元打分",
        "beam.ended_length": "长度上限",
        "beam.done": (
            "<b>搜索结束</b>：最好的完成文本就是答案（与 "
            "<code>generate(num_beams={beams})</code> 的结果相同）。"
        ),
        "beam.keeps": "每次单步从一次前向传播中保留最好的 {beams} 个（束, 下一个词元）组合。",
        "beam.col_beam": "束",
        "beam.col_from": "来自",
        "beam.col_text": "新文本",
        "beam.col_log_prob": "对数概率",
        "beam.finished": (
            "<b>已完成</b>（已保留 {n} / {beams} 条；得分 = 对数概率 / 长度<sup>{penalty}</sup>）"
        ),
        "beam.col_finished_text": "文本",
        "beam.col_ended_by": "结束于",
        "beam.col_score": "得分",
        "beam.title": "第 {n} 步之后的<b>束</b>，最好的排在最前。{verdict}",
        "spec.start": (
            "<b>投机解码</b>：每次单步是一轮：草稿猜 {k} 个词元，模型用一次前向传播把它们全部"
            "检查一遍，再加上自己的下一个词元。"
        ),
        "spec.kept": "保留：模型也会选它",
        "spec.rejected": "被拒绝",
        "spec.model_kind": "模型的{kind}",
        "spec.why_bonus": "每个猜测都对，所以同一次前向传播再多给出一个词元：<b>附赠词元</b>",
        "spec.why_correction": (
            "第 {i} 个猜测与模型的选择不同：模型的<b>更正</b>取代了它，后面的猜测全部丢弃"
        ),
        "spec.earlier": (
            "第 {i} 轮：保留 {proposed} 个猜测中的 {kept} 个 + 模型的{kind}（+{added}）"
        ),
        "spec.title": "<b>第 {i} 轮</b>：草稿猜了 {proposed} 个，模型保留了 {kept} 个；{why}。",
        "spec.passes": (
            "到目前为止，<b>{n}</b> 个词元用了 <b>{passes}</b> 次模型前向传播；"
            "普通贪心解码需要 {n} 次。"
        ),
        "status.beam_done": "束搜索第 {n} 步：搜索结束；最好的文本是 '{text}'（得分 {score}）",
        "status.beam_step": (
            "束搜索第 {n} 步：最好的束是 '{text}'（对数概率 {log_prob}）；已完成 {finished} 条"
        ),
        "status.round": (
            "第 {n} 轮：草稿猜了 {proposed} 个，模型保留了 {kept} 个，并加上 '{token}'"
            "（{kind}）；{passes} 次模型前向传播写出 {tokens} 个词元"
        ),
        "status.undone_switch": "切换到{mode}模式",
        "status.undone_beam_step": "束搜索第 {n} 步",
        "status.undone_round": "第 {n} 轮",
        "status.undone_mode_reset": "重置（退回 {n} 步）",
        "status.what_force": "强制选词元",
        "status.what_figure": "候选词元图",
        "view.filters_join": "、",
        "alt.figure": "图",
        "alt.stop": "。",
        "alt.a": "一张{what}",
        "alt.an": "一张{what}",
        "alt.bar": "柱状图",
        "alt.heatmap": "热力图",
        "alt.scatter": "折线图",
        "alt.markers": "散点图",
        "alt.table": "表格",
        "alt.other": "{kind} 图",
        "alt.and": "和",
        "alt.comma": "、",
        "alt.semicolon": "；",
        "alt.of": "{names}的{kinds}",
        "alt.of_series": "{n} 个系列（{names} 等）的{kinds}",
        "alt.diagram": "示意图",
        "alt.diagram_labels": "示意图：{labels}",
        "alt.axis": "{axis}：{title}",
        "alt.axes": "（{axes}）",
        "alt.panels": "，分为几个面板：{panels}",
        "alt.slider": "，带一个滑块，可在 {n} 个视图之间切换",
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


def notebook_lang(nb) -> str:
    """The language of a stored notebook (a dict or nbformat node): "zh" for the Chinese
    edition's (``python -m course.translate build`` writes ``course_translation.language``
    zh-CN in its metadata), else "en". Alt text and the site's pages follow it."""
    meta = nb.get("metadata", {}).get("course_translation", {})
    return "zh" if str(meta.get("language", "")).startswith("zh") else "en"


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
