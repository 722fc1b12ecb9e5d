"""The words of every figure in the notebook's language: titles, axis titles, legends, colour
bars, subplot titles and the slider's labels.

Taught nowhere on its own: the figures' words are written by the notebooks' code, which is the
same in both editions, so a Chinese notebook cannot change them in its cells. Instead
``setup_notebook(lang="zh")`` draws every figure through ``TranslatedRenderer``, which hands plotly
a copy of the figure with its words looked up in ``ZH`` (an exact English text, read with its
line breaks as spaces) or matched by one of ``PATTERNS`` (texts that carry a number). Data is
never touched: token labels on the axes, cell values, hover texts. A text found in neither stays
English; ``tests/helpers/test_figure_text.py`` fails for any text of a stored figure that is.
"""

from __future__ import annotations

import copy
import re

from plotly.io._base_renderers import MimetypeRenderer

#: English figure text -> Chinese, for every text the notebooks' figures show.
ZH = {
    "-log p (nats)": "-log p（奈特）",
    "1 parallel pass": "1 次并行前向传播",
    "1. scores q·k/√d": "1. 分数 q·k/√d",
    "2. scores + mask: −∞ above the diagonal": "2. 分数 + 掩码：对角线以上为 −∞",
    "3. softmax → weights: each row sums to 1": "3. softmax → 权重：每行之和为 1",
    "<b>Generation</b>: the next token does not exist yet": "<b>生成</b>：下一个词元还不存在",
    "<b>Training</b>: the whole text is known": "<b>训练</b>：整段文本都已知",
    "Changing step k (row) changes every later step j (column), never an earlier one": (
        "改动第 k 步（行）会改变之后的每一步 j（列），从不改变更早的步"
    ),
    "Each pass of the model: 1 to 5 new tokens (k = 4)": (
        "模型的每次前向传播：1 到 5 个新词元（k = 4）"
    ),
    "How much position t's logits move when token k changes (max |Δ|)": (
        "改动词元 k 时，位置 t 的 logits 变化多少（max |Δ|）"
    ),
    "Longer proposals: fewer passes per token, but fewer guesses accepted": (
        "猜得越长：每个词元的前向传播越少，但被接受的猜测也越少"
    ),
    "Loss of the play's next 32 tokens: after its own 32 tokens minus after the play's from "
    "another place": (
        "剧本接下来 32 个词元的损失：接在它自己的 32 个词元之后，减去接在剧本别处的之后"
    ),
    "Position t sees tokens 0..t and is scored on token t+1": (
        "位置 t 看到词元 0..t，按词元 t+1 打分"
    ),
    "Positions processed by each forward pass": "每次前向传播处理的位置数",
    "Positions processed so far: a parabola against a straight line": (
        "累计处理的位置数：抛物线与直线"
    ),
    "Summed log-probability of the text so far": "到目前为止文本的对数概率之和",
    "T stepwise passes": "T 次逐步前向传播",
    "Temperature reshapes the distribution after 'ROMEO:↵'": "温度改变 'ROMEO:↵' 之后的分布形状",
    "The accept/reject rule outputs p, not the draft's q": (
        "接受/拒绝规则输出的是 p，而不是草稿的 q"
    ),
    "The causal mask: ✓ = the row's token may look at the column's token": (
        "因果掩码：✓ = 这一行的词元可以看这一列的词元"
    ),
    "The loss falls from ln V to the frequency-only loss in seconds": (
        "几秒之内，损失从 ln V 降到只看频率的损失"
    ),
    "The two data flows: training (left) and generation (right)": (
        "两种数据流：<br>训练（左）与生成（右）"
    ),
    "Throughput against batch size (measured)": "吞吐量随批次大小的变化（实测）",
    "Time to get all T next-token distributions (this machine, CPU)": (
        "得到全部 T 个下一词元分布所需的时间（本机 CPU）"
    ),
    "Time to produce one more token (measured)": "多产出一个词元所需的时间（实测）",
    "Training loss of two tiny models, with and without the causal mask": (
        "两个小模型的训练损失：有因果掩码与没有因果掩码"
    ),
    "What comes after 'But soft, what light through yonder window'?": (
        "'But soft, what light through yonder window' 之后是什么？"
    ),
    "What each next token cost (-log p); the loss is the mean height": (
        "每个下一词元的代价（-log p）；损失就是平均高度"
    ),
    "Who looks at whom in the two tiny models": "两个小模型里谁在看谁",
    "acceptance rate": "接受率",
    "accepted guesses": "被接受的猜测",
    "after temperature / top-k / top-p": "经过温度 / top-k / top-p 之后",
    "all tokens in (blue); out, at every position, a prediction scored against the next token "
    "(orange)": "输入全部词元（蓝）；<br>输出：每个位置一个预测，<br>按下一个词元打分（橙）",
    "append, repeat: one pass per token": "追加，<br>重复：<br>每个词元<br>一次<br>前向传播",
    "attention_mask of a left-padded batch (1 = real token, 0 = pad)": (
        "左填充批次的 attention_mask（1 = 真实词元，0 = 填充）"
    ),
    "beam search, 4 beams": "束搜索，4 条束",
    "candidate token": "候选词元",
    "causal mask": "因果掩码",
    "choose ONE token (argmax or sample)": "只选一个词元<br>（argmax 或采样）",
    "column": "列",
    "decode, 16 tokens of context": "解码，上下文 16 个词元",
    "difference of -log p (nats)": "-log p 之差（奈特）",
    "forward pass (= new token)": "前向传播（= 新词元）",
    "fraction": "比例",
    "frequency-only loss": "只看频率的损失",
    "greedy": "贪心",
    "k (tokens proposed per round)": "k（每轮猜测的词元数）",
    "key": "键",
    "key (column)": "键（列）",
    "key: looked at": "键：被看的",
    "key: the token looked at": "键：被看的词元",
    "ln V (uniform guess)": "ln V（均匀猜测）",
    "log-probability (higher = likelier)": "对数概率（越高越可能）",
    "loss (nats per token)": "损失（每个词元的奈特数）",
    "loss (nats)": "损失（奈特）",
    "milliseconds (log scale)": "毫秒（对数刻度）",
    "model (temperature 1)": "模型（温度 1）",
    "model passes per token": "每个词元的模型前向传播数",
    "model's own token": "模型自己的词元",
    "model: ONE forward pass (causal mask: position t sees 0..t)": (
        "模型：一次前向传播<br>（因果掩码：位置 t 看到 0..t）"
    ),
    "model: one forward pass (only the last position is used)": (
        "模型：一次前向传播<br>（只用最后一个位置）"
    ),
    "ms per token": "每个词元的毫秒数",
    "new tokens generated": "生成的新词元数",
    "new tokens per second": "每秒新词元数",
    "next token": "下一个词元",
    "next token (sorted)": "下一个词元（排序后）",
    "next token (· is a space)": "下一个词元（· 表示空格）",
    "no mask": "无掩码",
    "p: the model": "p：模型",
    "place in the play (token index)": "在剧本中的位置（词元序号）",
    "position t watched": "所观察的位置 t",
    "position_ids from the attention mask": "由注意力掩码得到的 position_ids",
    "positions": "位置数",
    "positions (running total)": "位置数（累计）",
    "probability": "概率",
    "q: the draft": "q：草稿",
    "query": "查询",
    "query (row)": "查询（行）",
    "query: looking": "查询：在看的",
    "query: the token looking": "查询：在看的词元",
    "rejected guesses": "被拒绝的猜测",
    "round (one forward pass)": "轮次（一次前向传播）",
    "rule's output (counted)": "规则的输出（计数）",
    "running total": "累计",
    "score": "分数",
    "sequence length (tokens)": "序列长度（词元数）",
    "sequence length T": "序列长度 T",
    "sequences decoded together (batch size)": "一起解码的序列数（批次大小）",
    "showing ": "显示 ",
    "step": "步",
    "step j: max |change| of its distribution": "第 j 步：其分布的最大 |变化|",
    "the text so far (prompt + chosen tokens)": "目前的文本<br>（提示 + 已选的词元）",
    "token k that changed": "被改动的词元 k",
    "token of the sentence": "句子中的词元",
    "token to predict": "要预测的词元",
    "tokens": "词元数",
    "tokens written": "已写出的词元",
    "training loss": "训练损失",
    "weight": "权重",
    "with KV cache": "有 KV 缓存",
    "with the causal mask": "有因果掩码",
    "without cache": "无缓存",
    "without it": "没有因果掩码",
}

#: Texts that carry a number: (pattern, Chinese with the groups in {1}, {2}...).
PATTERNS = [
    (r"candidates for step (\d+)", "第 {1} 步的候选"),
    (r"Attention weights, layer (\d+), head (\d+)", "注意力权重，第 {1} 层，第 {2} 头"),
    (
        r"Layer (\d+), head (\d+): where the causal mask enters",
        "第 {1} 层第 {2} 头：因果掩码从哪里进入",
    ),
    (r"Combined mask of row (\d+): causal AND not a pad", "第 {1} 行的组合掩码：因果且不是填充"),
    (r"(causal mask|no mask): layer (\d+), head (\d+)", "{1}：第 {2} 层，第 {3} 头"),
    (r"layer (\d+), head (\d+)", "第 {1} 层，第 {2} 头"),
    (r"temperature ([\d.]+)", "温度 {1}"),
    (
        r"top-k = (\d+): the (\d+) most likely tokens survive",
        "top-k = {1}：最可能的 {2} 个词元留下",
    ),
    (
        r"top-p = ([\d.]+): keep tokens until the running total reaches ([\d.]+)",
        "top-p = {1}：一直保留词元，直到累计达到 {2}",
    ),
]
_COMPILED = [(re.compile(p + r"$"), zh) for p, zh in PATTERNS]
TITLE_CHARS = 26  # a Chinese title wider than this wraps (a CJK character is about two letters)


def _key(text: str) -> str:
    return re.sub(r"\s*<br>\s*", " ", text).strip()


def in_chinese(text):
    """``text`` (a figure's words) in Chinese, or unchanged when it is not a known figure text."""
    if not isinstance(text, str):
        return text
    key = text if text in ZH else _key(text)
    if key in ZH:
        return ZH[key]
    for pattern, zh in _COMPILED:
        m = pattern.match(key)
        if m:
            out = zh
            for i, group in enumerate(m.groups(), start=1):
                out = out.replace(f"{{{i}}}", in_chinese(group) if group in ZH else group)
            return out
    return text


def _wrap(text: str) -> str:
    """A long Chinese title on two lines, broken after a comma or colon near its middle."""
    if len(text) <= TITLE_CHARS or "<br>" in text:
        return text
    marks = [i for i, ch in enumerate(text) if ch in "，：；" and 8 <= i <= len(text) - 6]
    if not marks:
        return text
    cut = min(marks, key=lambda i: abs(i - len(text) / 2)) + 1
    return text[:cut] + "<br>" + text[cut:]


def _text_of(holder: dict, key: str = "title") -> None:
    """Translate ``holder[key]``, a plotly title (a string, or a dict with "text")."""
    value = holder.get(key)
    if isinstance(value, dict) and "text" in value:
        value["text"] = _wrap(in_chinese(value["text"]))
    elif isinstance(value, str):
        holder[key] = _wrap(in_chinese(value))


def translate_figure(fig_dict: dict) -> dict:
    """A copy of a plotly figure (as a dict) with its words in Chinese; its data unchanged."""
    if not isinstance(fig_dict, dict):
        raise TypeError(f"translate_figure takes a figure's dict, got {type(fig_dict).__name__}")
    fig = copy.deepcopy(fig_dict)
    layout = fig.setdefault("layout", {})
    _text_of(layout)
    for name, axis in layout.items():
        if re.match(r"[xy]axis\d*$", name) and isinstance(axis, dict):
            _text_of(axis)
    if isinstance(layout.get("legend"), dict):
        _text_of(layout["legend"])
    for note in layout.get("annotations", []) or []:  # subplot titles and diagram labels
        if isinstance(note, dict) and "text" in note:
            note["text"] = in_chinese(note["text"])
    for slider in layout.get("sliders", []) or []:
        current = slider.get("currentvalue", {})
        if "prefix" in current:
            current["prefix"] = in_chinese(current["prefix"])
        for step in slider.get("steps", []):
            for arg in step.get("args", []):
                if isinstance(arg, dict) and "title.text" in arg:
                    arg["title.text"] = _wrap(in_chinese(arg["title.text"]))
    for trace in fig.get("data", []):
        if "name" in trace:
            trace["name"] = in_chinese(trace["name"])
        if isinstance(trace.get("colorbar"), dict):
            _text_of(trace["colorbar"])
    return fig


class TranslatedRenderer(MimetypeRenderer):
    """A plotly renderer that draws the figure with its words in Chinese (``inner`` draws it)."""

    def __init__(self, inner: MimetypeRenderer):
        if not isinstance(inner, MimetypeRenderer):
            raise TypeError(f"inner must be a plotly mimetype renderer, got {inner!r}")
        self.inner = inner

    def to_mimebundle(self, fig_dict):
        return self.inner.to_mimebundle(translate_figure(fig_dict))
