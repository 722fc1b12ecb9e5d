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
same ``{placeholders}`` (tests/helpers/test_messages.py). The errors a helper raises about a
student's input (``BadValue``, ``BadType``: helpers._checks) read in the language too: they are
kept in English and translated when shown, by ``error_text`` and ``ERRORS_ZH`` (every form of
them; tests/helpers/test_errors_zh.py). What stays English in both: the names a settings note
gives ("num_beams 3 -> 4": Python arguments). Figures' words are translated as they are drawn
(``helpers.figure_text``).
"""

from __future__ import annotations

import re
import string

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
        "view.token_hover": "token {id}",
        "view.token_hover_cut": "token {id}, cut by {name}",
        "view.cut": "cut",
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
        "pane.cache_next_beam": (
            "<b>Next step</b> runs one batched pass: each running beam (up to {beams}) reads its "
            "{n} cached positions ({size} bytes a beam) and runs 1 new token through the layers, "
            "adding {added} bytes a beam."
        ),
        "pane.cache_next_round": (
            "<b>Next round</b> runs one pass: it reads the text's cached positions and runs the "
            "round's new token with the draft's next guesses (up to {k}: at most {tokens} "
            "tokens); the guesses the model rejects are cut from the cache again."
        ),
        "pane.cache_over": "<b>The search is over</b>: no next step runs.",
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
            "解码步进器（可交互的小部件：请在 JupyterLab 或 VS Code 中运行本单元格）"
        ),
        "stepper.fallback_text": "解码步进器的快照，供无法绘制小部件的前端显示",
        "stepper.fallback_note": (
            "这里没有画出可交互的小部件（没有运行中的内核，或保存笔记本时没有保存小部件状态）；"
            "下面是本单元格运行结束时步进器的样子。运行本单元格即可得到可交互的小部件。"
        ),
        "mode.greedy": "贪心",
        "mode.sample": "采样",
        "mode.beam": "束搜索",
        "mode.speculative": "投机解码",
        "mode_tip.greedy": "总是选第一名候选",
        "mode_tip.sample": "按种子从过滤后的分布中抽取",
        "mode_tip.beam": "保留最好的几条文本：每按一次单步，每条束各延长一个词元",
        "mode_tip.speculative": "草稿猜 k 个词元，模型用一次前向传播全部验证",
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
        "control.max_tokens": "最多词元数",
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
        "status.no_candidate": "没有编号为 {i} 的候选：面板只显示 {n} 个",
        "status.undone": "已撤销：{what}",
        "status.undone_step": "第 {n} 步（'{token}'）",
        "status.undone_prompt": "新的提示",
        "status.undone_reset": "重置（恢复了 {n} 个词元）",
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
        "view.cut_by": "被 {name} 砍掉",
        "view.token_hover": "词元 {id}",
        "view.token_hover_cut": "词元 {id}，被 {name} 砍掉",
        "view.cut": "砍掉",
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
        "pane.cache_next_beam": (
            "<b>下一步</b>做一次批量前向传播：每条仍在进行的束（最多 {beams} 条）读取自己"
            "缓存中的 {n} 个位置（每条束 {size} 字节），让 1 个新词元穿过各层，"
            "每条束的缓存再增加 {added} 字节。"
        ),
        "pane.cache_next_round": (
            "<b>下一轮</b>做一次前向传播：读取文本已缓存的位置，让本轮的新词元连同草稿"
            "接下来的猜测（最多 {k} 个，合计最多 {tokens} 个词元）一起穿过各层；"
            "模型拒绝的猜测会再从缓存中截掉。"
        ),
        "pane.cache_over": "<b>搜索已经结束</b>：不会再有下一步。",
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
        "pane.cut": "已砍掉",
        "pane.filters_greedy": "贪心直接取分数最高的词元；这些阶段只在采样时影响抽取。",
        "pane.filters_sample": "抽取用的是最后一列。",
        "pane.filters_title": (
            "<b>过滤器</b>，按 transformers 的 <code>generate</code> 应用它们的顺序排列："
            "每个候选经过每个阶段之后的概率。{note}"
        ),
        "pane.token": "词元",
        "pane.tokens_left": "剩下的词元数",
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
            "<b>投机解码</b>：每按一次单步走一轮：草稿猜 {k} 个词元，模型用一次前向传播把它们全部"
            "验证一遍，再加上自己的下一个词元。"
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
        "status.undone_mode_reset": "重置（恢复了 {n} 步）",
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


# --------------------------------------------------------------------------- error messages
#: Every form of the errors the helpers raise about a student's input (``BadValue``,
#: ``BadType`` in helpers._checks), in Chinese: (English template, Chinese template). A template
#: is ``str.format`` text; the English one is matched against the whole message (each
#: ``{field}`` matches any text, the shortest that fits; a field used twice must repeat the same
#: text), and the Chinese one is filled with what the fields matched. Python names, values and
#: code stay as they are. Specific forms come before the general ones they would also fit.
ERRORS_ZH: list[tuple[str, str]] = [
    # --- helpers.assisted, attention, beam_search
    (
        "models must be a non-empty list or tuple of models, got {got}",
        "models 必须是由模型组成的非空列表或元组，得到的是 {got}",
    ),
    (
        "the model uses attn_implementation={impl}, which returns no attention weights; "
        'load it with load_model(attn_implementation="eager")',
        "模型用的是 attn_implementation={impl}，它不返回注意力权重；"
        '请用 load_model(attn_implementation="eager") 加载模型',
    ),
    (
        "{func} takes one sequence (1, T); got {shape}",
        "{func} 只接受一条序列 (1, T)；得到的形状是 {shape}",
    ),
    (
        "attention_mask shape {a} must equal input_ids shape {b}: one 1/0 per token",
        "attention_mask 的形状 {a} 必须与 input_ids 的形状 {b} 相同：每个词元对应一个 1 或 0",
    ),
    (
        "position_ids shape {a} must equal input_ids shape {b}",
        "position_ids 的形状 {a} 必须与 input_ids 的形状 {b} 相同",
    ),
    (
        "{n} prompt tokens + max_new_tokens={m} do not fit the context window of {window} tokens",
        "{n} 个提示词元 + max_new_tokens={m} 超出了 {window} 个词元的上下文窗口",
    ),
    (
        "ids and new_ids hold {count} tokens; the model's context window is {window} tokens",
        "ids 和 new_ids 共有 {count} 个词元；模型的上下文窗口只有 {window} 个词元",
    ),
    (
        "ids and proposed hold {count} tokens; the model's context window is {window} tokens",
        "ids 和 proposed 共有 {count} 个词元；模型的上下文窗口只有 {window} 个词元",
    ),
    # --- helpers.corpus, cost
    (
        "{name}={value} is not a play; choose one of {choices}",
        "{name}={value} 不是剧本名；请从 {choices} 中选一个",
    ),
    (
        "vocab_size={value} must be at least 257 (256 bytes + {eot})",
        "vocab_size={value} 至少要是 257（256 个字节 + {eot}）",
    ),
    (
        "bytes_per_value={value} must be one of {choices} (or a dtype name)",
        "bytes_per_value={value} 必须是 {choices} 之一（或一个数据类型名）",
    ),
    (
        "expected a GPT-2 config or model (with {names}), got {kind} without {missing}",
        "需要 GPT-2 的配置或模型（带有 {names}），得到的却是缺少 {missing} 的 {kind}",
    ),
    ("n_embd={a} must be a multiple of n_head={b}", "n_embd={a} 必须是 n_head={b} 的倍数"),
    (
        "kv_heads={a} must divide n_head={b} (heads share K/V in equal groups)",
        "kv_heads={a} 必须能整除 n_head={b}（查询头分成大小相等的组，每组共享一份 K/V）",
    ),
    (
        "expected a transformers Cache (out.cache), got {got}",
        "需要 transformers 的 Cache（out.cache），得到的是 {got}",
    ),
    (
        "same_pass takes one or more StepCost (from step_cost)",
        "same_pass 需要一个或多个 StepCost（由 step_cost 给出）",
    ),
    (
        "step must be a StepCost (from step_cost), got {got}",
        "step 必须是 StepCost（由 step_cost 给出），得到的是 {got}",
    ),
    # --- helpers.drafts
    (
        "draft vocab_size={v} does not match the model's vocabulary of {n} tokens: the draft "
        "must use the model's tokenizer (token ids 0..{high})",
        "草稿的 vocab_size={v} 与模型 {n} 个词元的词表不一致：草稿必须使用模型的分词器"
        "（词元 id 0..{high}）",
    ),
    (
        "draft must have .propose(ids, k) and .vocab_size (an NGramDraft or a ModelDraft); "
        "got {kind} without .{attr}",
        "draft 必须有 .propose(ids, k) 和 .vocab_size（NGramDraft 或 ModelDraft）；"
        "得到的却是缺少 .{attr} 的 {kind}",
    ),
    (
        "the draft was built with another tokenizer (vocabulary fingerprint {a}, the model's is "
        "{b}): the same id would mean different text; rebuild the draft with the model's tokenizer",
        "这个草稿是用另一个分词器建的（词表指纹 {a}，模型的是 {b}）：同一个 id 会代表不同的文本；"
        "请用模型的分词器重建草稿",
    ),
    (
        "vocab_size={v} is too large for order={order} keys",
        "vocab_size={v} 太大，order={order} 的键放不下",
    ),
    (
        "need at least order={order} tokens to count, got {n}",
        "至少需要 order={order} 个词元才能计数，得到的只有 {n} 个",
    ),
    (
        "token ids must be in 0..{high}, got {a}..{b}",
        "词元 id 必须在 0..{high} 之间，得到的是 {a}..{b}",
    ),
    (
        "text must be a non-empty str to count n-grams from",
        "text 必须是非空字符串，才能从中统计 n-gram",
    ),
    ("{folder} is a {kind}, not an ngram-draft", "{folder} 是 {kind}，不是 ngram-draft"),
    (
        "fallback must be a draft with .next_token(ids) (an NGramDraft), got {got}",
        "fallback 必须是带 .next_token(ids) 的草稿（NGramDraft），得到的是 {got}",
    ),
    # --- helpers.exercises, generation
    ("check({id}, ...) needs {arg}=... too", "check({id}, ...) 还需要 {arg}=..."),
    (
        "prompt {prompt} is empty or only whitespace; type at least one word",
        "提示 {prompt} 是空的，或者只有空白字符；请至少输入一个词",
    ),
    (
        "ids must be one sequence (1, T), T >= 1; got shape {shape}",
        "ids 必须是一条序列 (1, T)，T >= 1；得到的形状是 {shape}",
    ),
    (
        "forced must be a dict {{step: token_id}} or None, got {got}",
        "forced 必须是字典 {{step: token_id}} 或 None，得到的是 {got}",
    ),
    (
        "the prompt is {n} tokens long; the model's context window is {window} tokens: shorten "
        "the prompt to at most {window} tokens",
        "提示长 {n} 个词元；模型的上下文窗口只有 {window} 个词元："
        "请把提示缩短到最多 {window} 个词元",
    ),
    # --- helpers.masks
    (
        "input_ids must be 2-D (batch, seq); got shape {shape}",
        "input_ids 必须是二维的 (batch, seq)；得到的形状是 {shape}",
    ),
    (
        "the batch is empty: input_ids has shape {shape}; need at least 1 row and 1 token",
        "批次是空的：input_ids 的形状是 {shape}；至少需要 1 行、1 个词元",
    ),
    (
        "attention_mask may hold only 1 (real token) and 0 (padding)",
        "attention_mask 只能含 1（真实词元）和 0（填充）",
    ),
    (
        "row(s) {rows} of the batch are all padding (attention_mask all 0): each prompt needs at "
        "least 1 real token",
        "批次的第 {rows} 行全是填充（attention_mask 全为 0）：每条提示至少需要 1 个真实词元",
    ),
    (
        "prompts must be a list of str, got {got}",
        "prompts 必须是由字符串组成的列表，得到的是 {got}",
    ),
    (
        "prompts is an empty list: the batch needs at least 1 prompt",
        "prompts 是空列表：批次至少需要 1 条提示",
    ),
    ("every prompt must be a str; got {got}", "每条提示都必须是字符串；得到的是 {got}"),
    (
        "the tokenizer has no pad token; set tokenizer.pad_token first",
        "分词器没有填充词元；请先设置 tokenizer.pad_token",
    ),
    ("mask must be a bool tensor, got {got}", "mask 必须是 bool 张量，得到的是 {got}"),
    (
        "a 4-D attention_mask must have shape (batch, 1, T, T) = {a} for input_ids of shape {b}; "
        "got {c}",
        "input_ids 的形状是 {b} 时，四维 attention_mask 的形状必须是 (batch, 1, T, T) = {a}；"
        "得到的是 {c}",
    ),
    (
        "a 4-D attention_mask must be float (0 = may attend, most negative = may not: see "
        "additive_mask) or bool; got a {dtype} tensor",
        "四维 attention_mask 必须是浮点型（0 = 可以关注，最小的负数 = 不可以：见 additive_mask）"
        "或 bool 型；得到的是 {dtype} 张量",
    ),
    # --- helpers.models
    (
        "device must be a str or torch.device, got {got}",
        "device 必须是字符串或 torch.device，得到的是 {got}",
    ),
    (
        "{source}={device} cannot run a model: use one of {choices}",
        "{source}={device} 不能运行模型：请使用 {choices} 之一",
    ),
    (
        "{source}={device} was asked for but {backend} is not available; use 'cpu'",
        "{source}={device} 要求使用 {backend}，但 {backend} 不可用；请用 'cpu'",
    ),
    (
        "{source}={device} is not a device name; use 'cpu', 'cuda', 'cuda:0' or 'mps'",
        "{source}={device} 不是设备名；请用 'cpu'、'cuda'、'cuda:0' 或 'mps'",
    ),
    (
        "{var} is set but blank; unset it for the bundled model, or set it to a folder or a Hub "
        "id such as 'gpt2'",
        "{var} 已设置但为空；要用课程自带的模型就取消设置它，"
        "或者设为一个文件夹或 'gpt2' 这样的 Hub id",
    ),
    (
        "{var} is set but blank; unset it or set it to 'cpu' or 'cuda'",
        "{var} 已设置但为空；请取消设置它，或者设为 'cpu' 或 'cuda'",
    ),
    (
        "name must be a str (a folder or a Hub id such as 'gpt2') or None, got {got}",
        "name 必须是字符串（一个文件夹，或 'gpt2' 这样的 Hub id）或 None，得到的是 {got}",
    ),
    (
        "name is an empty string; pass None for the bundled model or 'gpt2'",
        "name 是空字符串；要用课程自带的模型请传 None，或者传 'gpt2'",
    ),
    # --- helpers.plots
    (
        "text must be a str (a token's text), got {got}",
        "text 必须是字符串（一个词元的文本），得到的是 {got}",
    ),
    (
        "{a} labels for {b} values: give one label per bar",
        "{a} 个标签对应 {b} 个值：每根柱子要有一个标签",
    ),
    (
        "weights must be a (layers, heads, T, T) tensor; got {shape}",
        "weights 必须是 (layers, heads, T, T) 张量；得到的形状是 {shape}",
    ),
    (
        "{a} token labels for T={b} positions: give one per position",
        "{a} 个词元标签对应 T={b} 个位置：每个位置要有一个",
    ),
    (
        "figure must be a plotly Figure or its dict, got {got}",
        "figure 必须是 plotly Figure 或它的字典，得到的是 {got}",
    ),
    (
        "series {name} has {a} values for {b} x values",
        "数据系列 {name} 有 {a} 个值，而 x 有 {b} 个值",
    ),
    # --- helpers.sampling, speculative, step_internals
    (
        "logits must be a floating-point tensor, got a {dtype} tensor",
        "logits 必须是浮点张量，得到的是 {dtype} 张量",
    ),
    (
        "logits must have a vocabulary dimension (..., V) with V >= 1; got shape {shape}",
        "logits 必须有词表维度 (..., V)，且 V >= 1；得到的形状是 {shape}",
    ),
    (
        "a={a} must be a probability, in the range [0, 1]",
        "a={a} 必须是概率，即在区间 [0, 1] 内",
    ),
    ("{name} must be a 1-D tensor of probabilities", "{name} 必须是由概率组成的一维张量"),
    ("{name} must hold finite probabilities >= 0", "{name} 中的概率必须都是 >= 0 的有限数"),
    (
        "{name} sums to {total}; probabilities must sum to 1 (within 1e-4)",
        "{name} 的和是 {total}；概率之和必须为 1（误差不超过 1e-4）",
    ),
    (
        "p and q must have the same length, got {a} and {b}",
        "p 和 q 的长度必须相同，得到的是 {a} 和 {b}",
    ),
    (
        "stages is empty: pass the list filter_pipeline returns",
        "stages 是空的：请传入 filter_pipeline 返回的列表",
    ),
    # --- the stepper: helpers.stepping, stepper_modes, stepper_panes, stepper_view, widgets
    (
        "the context window is full: the text is {n} tokens and the model reads at most {window}: "
        "undo or reset to continue",
        "上下文窗口已满：文本有 {n} 个词元，而模型最多读 {window} 个：撤销或重置后才能继续",
    ),
    (
        "the context window is full: there are no next-token candidates",
        "上下文窗口已满：没有下一个词元的候选",
    ),
    (
        "unknown setting {setting}: the settings are {names}",
        "没有 {setting} 这个设置；可用的设置有 {names}",
    ),
    (
        "the beam search is over after {n} steps: its best text is chosen; Undo, Reset or change "
        "a setting to search again",
        "束搜索在 {n} 步后已经结束，最好的文本已经选出；撤销、重置或改一个设置即可重新搜索",
    ),
    ("nothing to undo: this is the starting state", "没有可撤销的操作：这已是起始状态"),
    (
        "nothing to reset: no beam step has been taken yet",
        "没有什么可重置的：束搜索还一步都没走",
    ),
    ("nothing to reset: no round has run yet", "没有什么可重置的：还一轮都没运行过"),
    ("nothing to reset: no token has been generated yet", "没有什么可重置的：还没有生成任何词元"),
    (
        "{names}: a setting of the beam and speculative modes; this is {mode} mode",
        "{names}：这是束搜索和投机解码模式的设置；现在是{mode}模式",
    ),
    (
        "tokens has {a} entries; attention covers {b} positions",
        "tokens 有 {a} 项，而注意力覆盖 {b} 个位置",
    ),
    (
        "columns must be a non-empty list of helpers.step_internals.StageColumn",
        "columns 必须是由 helpers.step_internals.StageColumn 组成的非空列表",
    ),
    (
        "every column must hold {n} probabilities, one per token",
        "每一列都必须有 {n} 个概率，每个词元一个",
    ),
    (
        "state must be a helpers.stepper_modes BeamState or SpeculativeState, got {got}",
        "state 必须是 helpers.stepper_modes 的 BeamState 或 SpeculativeState，得到的是 {got}",
    ),
    ("colour must be written #rrggbb, got {got}", "colour 必须写成 #rrggbb，得到的是 {got}"),
    # --- helpers.timing, training
    ("fn must be callable, got {got}", "fn 必须是可调用的，得到的是 {got}"),
    (
        "{name} must be a non-empty dict of name -> {kind}",
        "{name} 必须是非空字典（名字 -> {kind}）",
    ),
    ("every value of {name} must be callable", "{name} 的每个值都必须是可调用的"),
    (
        "count_positions needs input_ids (got inputs_embeds or nothing)",
        "count_positions 需要 input_ids（得到的是 inputs_embeds，或者什么都没有）",
    ),
    ("logits and labels must be torch tensors", "logits 和 labels 必须是 torch 张量"),
    (
        "logits must be (batch, seq, vocab) and labels (batch, seq); got {a} and {b}",
        "logits 的形状必须是 (batch, seq, vocab)，labels 的必须是 (batch, seq)；"
        "得到的是 {a} 和 {b}",
    ),
    (
        "labels shape {a} must equal the first two dims of logits {b}",
        "labels 的形状 {a} 必须等于 logits 的前两维 {b}",
    ),
    (
        "sequence length {n} has no (input, next token) pair; need >= 2",
        "序列长度为 {n}，构不成（输入，下一个词元）对；长度至少要是 2",
    ),
    (
        "every label is ignore_index={value}: nothing to compute a loss on",
        "每个标签都是 ignore_index={value}：没有可以计算损失的位置",
    ),
    (
        "rows {rows} have every label equal to ignore_index={value}: no loss to compute for them",
        "第 {rows} 行的标签全都等于 ignore_index={value}：这些行没有损失可算",
    ),
    (
        "sequences is empty; pass at least one list of token ids",
        "sequences 是空的；请至少传入一个词元 id 列表",
    ),
    (
        "the longest sequence is {n} tokens; the model's context window is {window} tokens",
        "最长的序列有 {n} 个词元；模型的上下文窗口只有 {window} 个词元",
    ),
    (
        "ids must be one sequence of shape (1, T) with T >= 1; got {shape}",
        "ids 必须是一条形状为 (1, T)、T >= 1 的序列；得到的是 {shape}",
    ),
    (
        "block_size={value} is out of range: ids holds {n} tokens, so it must be at most {m} "
        "(ids must be one 1-D token tensor)",
        "block_size={value} 超出范围：ids 只有 {n} 个词元，所以它最多是 {m}"
        "（ids 必须是一维词元张量）",
    ),
    (
        "min_lr_ratio must be a number in [0, 1], got {got}",
        "min_lr_ratio 必须是区间 [0, 1] 内的数，得到的是 {got}",
    ),
    ("min_lr_ratio={value} must be between 0 and 1", "min_lr_ratio={value} 必须在 0 和 1 之间"),
    (
        "ids must be one 1-D token tensor; got shape {shape}",
        "ids 必须是一维词元张量；得到的形状是 {shape}",
    ),
    # --- the shared checks: helpers._checks (general forms: last)
    (
        "{name} must be an int in the range {low}..{high}, got {got}",
        "{name} 必须是 {low}..{high} 范围内的整数，得到的是 {got}",
    ),
    ("{name} must be an int >= {low}, got {got}", "{name} 必须是 >= {low} 的整数，得到的是 {got}"),
    (
        "{name} must be an int in 0 <= {name} < 2**32, got {got}",
        "{name} 必须是满足 0 <= {name} < 2**32 的整数，得到的是 {got}",
    ),
    (
        "{name} must be an int (a token id), got {got}",
        "{name} 必须是整数（一个词元 id），得到的是 {got}",
    ),
    ("{name} must be an int, got {got}", "{name} 必须是整数，得到的是 {got}"),
    (
        "{name}={value} is out of range: it must be in the range {low}..{high} ({why})",
        "{name}={value} 超出范围：必须在 {low}..{high} 之间（{why}）",
    ),
    (
        "{name}={value} is out of range: it must be in the range {low}..{high}",
        "{name}={value} 超出范围：必须在 {low}..{high} 之间",
    ),
    (
        "{name}={value} is out of range: it must be >= {low} ({why})",
        "{name}={value} 超出范围：必须 >= {low}（{why}）",
    ),
    (
        "{name}={value} is out of range: it must be >= {low}",
        "{name}={value} 超出范围：必须 >= {low}",
    ),
    ("{name} must be a finite number, got {got}", "{name} 必须是有限数，得到的是 {got}"),
    (
        "{name}={value} must be a finite number (-inf < {name} < inf)",
        "{name}={value} 必须是有限数（-inf < {name} < inf）",
    ),
    ("{name} must be a number > 0, got {got}", "{name} 必须是大于 0 的数，得到的是 {got}"),
    (
        "{name}={value} must be a finite number > 0 (0 < {name} < inf)",
        "{name}={value} 必须是大于 0 的有限数（0 < {name} < inf）",
    ),
    ("{name} must be a number >= 0, got {got}", "{name} 必须是不小于 0 的数，得到的是 {got}"),
    (
        "{name}={value} must be a finite number >= 0 (0 <= {name} < inf)",
        "{name}={value} 必须是不小于 0 的有限数（0 <= {name} < inf）",
    ),
    (
        "{name} must be a number in (0, 1], got {got}",
        "{name} 必须是区间 (0, 1] 内的数，得到的是 {got}",
    ),
    ("{name}={value} must be in the range (0, 1]", "{name}={value} 必须在区间 (0, 1] 内"),
    (
        "{name}={value} is outside the allowed range 0 <= {name} < 2**32",
        "{name}={value} 超出了允许的范围 0 <= {name} < 2**32",
    ),
    ("{name} must be True or False, got {got}", "{name} 必须是 True 或 False，得到的是 {got}"),
    ("{name}={value} must be one of {choices}", "{name}={value} 必须是 {choices} 之一"),
    ("{name}={value} is not one of {choices}", "{name}={value} 不是 {choices} 之一"),
    (
        "{name}={value} is outside the vocabulary 0..{high}",
        "{name}={value} 超出了词表范围 0..{high}",
    ),
    (
        "{name} must be a list of token ids, got {got}",
        "{name} 必须是由词元 id 组成的列表，得到的是 {got}",
    ),
    ("{name} is empty: give at least 1 token id", "{name} 是空的：请至少给出 1 个词元 id"),
    (
        "{name} must hold token ids 0..{high}; got {got}",
        "{name} 中的词元 id 必须在 0..{high} 之间；得到的是 {got}",
    ),
    (
        "{name} must hold token ids 0 or more; got {got}",
        "{name} 中的词元 id 必须是 >= 0 的整数；得到的是 {got}",
    ),
    (
        "{name} must be one sequence (T,) or (1, T); got {shape}",
        "{name} 必须是一条序列，形状为 (T,) 或 (1, T)；得到的是 {shape}",
    ),
    ("{name} must be a torch tensor, got {got}", "{name} 必须是 torch 张量，得到的是 {got}"),
    (
        "{name} must have {n} dimensions; got shape {shape}",
        "{name} 必须是 {n} 维的；得到的形状是 {shape}",
    ),
    (
        "{name} must be a language model such as load_model() returns, got {got} "
        "(model and tokenizer swapped?)",
        "{name} 必须是语言模型，例如 load_model() 返回的那个；得到的是 {got}"
        "（是不是把模型和分词器弄反了？）",
    ),
    (
        "{name} must be a language model such as load_model() returns, got {got}",
        "{name} 必须是语言模型，例如 load_model() 返回的那个；得到的是 {got}",
    ),
    (
        "{name} must be a tokenizer such as load_model() returns, got {got} "
        "(model and tokenizer swapped?)",
        "{name} 必须是分词器，例如 load_model() 返回的那个；得到的是 {got}"
        "（是不是把模型和分词器弄反了？）",
    ),
    (
        "{name} must be a tokenizer such as load_model() returns, got {got}",
        "{name} 必须是分词器，例如 load_model() 返回的那个；得到的是 {got}",
    ),
    (
        "{name} must hold integer token ids, got a {dtype} tensor",
        "{name} 必须存放整数词元 id，得到的是 {dtype} 张量",
    ),
    (
        "{name} holds token id {value}, outside the vocabulary 0..{high}",
        "{name} 中有词元 id {value}，超出了词表范围 0..{high}",
    ),
    (
        "{name} is {n} tokens long; the model's context window is {window} tokens",
        "{name} 长 {n} 个词元；模型的上下文窗口只有 {window} 个词元",
    ),
    (
        "{name} must hold integer {what}s, got a {dtype} tensor",
        "{name} 必须存放整数{what}，得到的是 {dtype} 张量",
    ),
    (
        "{name} holds {what} {value}, outside the allowed range 0..{high}",
        "{name} 中有{what} {value}，超出了允许的范围 0..{high}",
    ),
    (
        "{name} must be a torch dtype such as torch.float32, got {got}",
        "{name} 必须是 torch 数据类型（例如 torch.float32），得到的是 {got}",
    ),
    (
        "{name}={value} must be a floating-point dtype (torch.float32, torch.float16, "
        "torch.bfloat16, torch.float64): an integer or bool dtype cannot hold -inf",
        "{name}={value} 必须是浮点数据类型（torch.float32、torch.float16、torch.bfloat16、"
        "torch.float64）：整数或 bool 类型存不下 -inf",
    ),
    ("{name} must be a str, got {got}", "{name} 必须是字符串（str），得到的是 {got}"),
    (
        "generator must be a torch.Generator or None, got {got}",
        "generator 必须是 torch.Generator 或 None，得到的是 {got}",
    ),
    ("{name} must be a {cls}, got {got}", "{name} 必须是 {cls}，得到的是 {got}"),
]

#: The parts of a message that a form's ``{why}``, ``{what}`` or ``{mode}`` stands for (the
#: reason a bound exists, what a tensor holds, a stepper mode), in Chinese. A form applies only if
#: its part is here too: otherwise the message stays English as a whole, never half-translated.
ERROR_PARTS_ZH: list[tuple[str, str]] = [
    (
        "a (T, T) mask of {n} positions already takes 256 MiB; the largest GPT-2 reads 1024 tokens",
        "{n} 个位置的 (T, T) 掩码就已占 256 MiB；最大的 GPT-2 也只读 1024 个词元",
    ),
    (
        "a (batch_size, 1, {t}, {t}) float32 mask may take at most 1 GiB",
        "一个 (batch_size, 1, {t}, {t}) 的 float32 掩码最多只能占 1 GiB",
    ),
    (
        "at most the vocabulary size {v}, and num_beams x {n} prompt tokens x {v} float32 logits "
        "may take at most 1 GiB",
        "不能超过词表大小 {v}，而且 num_beams × {n} 个提示词元 × {v} 个 float32 logits "
        "最多只能占 1 GiB",
    ),
    (
        "one int per forward pass; 1000x the 1024-token window of the largest GPT-2",
        "每次前向传播记一个整数；上限是最大的 GPT-2 的 1024 词元窗口的 1000 倍",
    ),
    ("the model's context window", "模型的上下文窗口"),
    ("the window, and the one token it predicts", "上下文窗口，再加上它预测的那一个词元"),
    ("position", "位置"),
]

#: Argument names that are words rather than Python names, in Chinese (``{name}``, ``{names}``:
#: any other name stays as it is, "forced step=10" too: it is written as code), and the
#: stepper's modes (``{mode}``).
ERROR_NAMES_ZH: list[tuple[str, str]] = [
    ("sequence {i}", "第 {i} 条序列"),
    ("attention_mask's length T", "attention_mask 的长度 T"),
    ("a setting", "某个设置"),
    ("greedy", "贪心"),
    ("sample", "采样"),
]

#: What a field matches: any text (the shortest that fits) unless named here. A bound is a
#: number, so that a reason in parentheses after it cannot pass for part of the bound; an
#: argument's name is at most three words of a Python name's characters, so that no text before
#: it ("stopped after 3 of 5 tokens: n=0 ...") passes for part of the name.
_NAME = r"[\w.$()\[\]']+(?: [\w.()\[\]']+){0,2}"
_FIELDS = {
    "low": r"-?\d+",
    "high": r"-?\d+",
    "got": r".+",
    "name": _NAME,
    "func": r"\w+",
    "var": r"\$?\w+",
    "source": r"\$?\w+",
    "cls": r"[\w.]+",
}
#: Fields that must be translated (ERROR_PARTS_ZH), and those translated where known (a mode, a
#: name in words) and otherwise kept as they are.
_PARTS, _NAMES = {"why", "what"}, {"name", "names", "mode"}


def _compile(table: list[tuple[str, str]]) -> list[tuple[re.Pattern, str]]:
    compiled = []
    for english, chinese in table:
        regex, seen = [], set()
        for literal, field, _, _ in string.Formatter().parse(english):
            regex.append(re.escape(literal))
            if field is None:
                continue
            if field in seen:
                regex.append(f"(?P={field})")
            else:
                seen.add(field)
                regex.append(f"(?P<{field}>{_FIELDS.get(field, '.+?')})")
        compiled.append((re.compile("".join(regex), re.DOTALL), chinese))
    return compiled


_ERRORS, _ERROR_PARTS, _ERROR_NAMES = map(_compile, (ERRORS_ZH, ERROR_PARTS_ZH, ERROR_NAMES_ZH))


def _translated(message: str, table) -> str | None:
    """``message`` in Chinese if the whole of it is one of ``table``'s forms, else None."""
    for pattern, chinese in table:
        m = pattern.fullmatch(message)
        if m is None:
            continue
        fields = m.groupdict()
        for field in _PARTS & fields.keys():
            fields[field] = _translated(fields[field], _ERROR_PARTS)
        if None in fields.values():
            continue  # a part this table lacks: try the next form, else leave it all English
        for field in _NAMES & fields.keys():
            name = _translated(fields[field], _ERROR_NAMES)
            if name is not None:  # a name in words: no space between it and the Chinese after it
                fields[field] = name
                chinese = re.sub(rf"\{{{field}\}} (?=[\u4e00-\u9fff])", f"{{{field}}}", chinese)
        return chinese.format(**fields)
    return None


def error_text(message: str) -> str:
    """A helper's error message as the student reads it: in Chinese where LANG is "zh" and the
    whole message is one of ERRORS_ZH's forms, else unchanged (English; a message already in
    Chinese is no English form, so translating twice changes nothing)."""
    if LANG != "zh":
        return message
    return _translated(message, _ERRORS) or message
