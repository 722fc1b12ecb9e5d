"""``python -m course.build``: one ``BuildConfig``, the shipped recipes as presets, clear errors.

The builds themselves (a few tiny training runs) are marked ``commands``: .ci/run runs them.
"""

import dataclasses
import inspect
import json
import math
from pathlib import Path

import pytest
import torch
from transformers import GPT2LMHeadModel

from course import build
from course.build import PRESETS, BuildConfig, build_model, config_from_args
from helpers.models import BUNDLED_MODEL_DIR, load_model, tiny_gpt2_config
from tests.course.test_distillation import tiny
from tests.test_repository import run_python

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
SHIPPED = MODELS / "tiny-shakespeare-gpt2"
TINY_BUILD = BuildConfig(steps=2, batch_size=2, block_size=32, warmup=1, threads=1)


def parse(*argv):
    return config_from_args(build._parser().parse_args(["model", "--out", "x", *argv]))


# --- one BuildConfig: defaults written once, options made from it, the presets ---------------


def test_the_options_are_the_config_fields_and_their_defaults_the_configs():
    assert parse() == BuildConfig()  # no option given: every default is the dataclass's
    help_text = build._parser()._subparsers._group_actions[0].choices["model"].format_help()
    for f in dataclasses.fields(BuildConfig):
        assert "--" + f.name.replace("_", "-") in help_text, f.name
    assert "(default 3000)" in help_text and "(default 0.1)" in help_text


def test_an_option_beside_a_preset_replaces_only_that_setting():
    short = parse("--preset", "distilled", "--steps", "40", "--no-bf16", "--ema-decay", "0")
    assert short == dataclasses.replace(PRESETS["distilled"], steps=40, bf16=False, ema_decay=0.0)
    assert parse("--teachers", "a", "b").teachers == ("a", "b")


def test_build_model_takes_a_config_not_23_keywords():
    assert list(inspect.signature(build_model).parameters) == ["out", "config"]
    with pytest.raises(TypeError, match="config must be a BuildConfig, got dict"):
        build_model("x", {"steps": 1})


def test_the_distilled_preset_is_the_recipe_the_shipped_model_recorded():
    """training_stats.json, written by the run that made models/tiny-shakespeare-gpt2, holds the
    settings of stage 2 and the steps of its start: the presets must say the same."""
    stats = json.loads((SHIPPED / "training_stats.json").read_text())
    c = PRESETS["distilled"]
    recorded = {
        "seed": c.seed,
        "steps": c.steps,
        "batch_size": c.batch_size,
        "block_size": c.block_size,
        "lr": c.lr,
        "warmup": c.warmup,
        "min_lr_ratio": c.min_lr_ratio,
        "bf16_autocast": c.bf16,
        "saved_dtype": c.save_dtype,
        "dropout": c.dropout,
        "weight_decay": c.weight_decay,
        "ema_decay": c.ema_decay,
        "torch_threads": c.threads,
    }
    assert {k: stats[k] for k in recorded} == recorded
    assert len(stats["teachers"]) == len(c.teachers) == 3
    start = PRESETS["teacher-d15"]  # stage 2 starts from the d15 teacher's weights
    assert Path(c.init_from).name == "d15" and stats["init_steps"] == start.steps
    config = json.loads((SHIPPED / "config.json").read_text())
    for preset in PRESETS.values():  # every stage has the shipped shape and tokenizer
        assert preset.n_embd in (None, config["n_embd"])
        assert preset.tokenizer_from in (None, "models/tiny-shakespeare-gpt2")


def test_the_card_quotes_one_command_per_stage():
    card = (SHIPPED / "README.md").read_text(encoding="utf-8")
    for name in PRESETS:
        assert f"python -m course.build model --preset {name} --out " in card, name
    line = "python -m course.build model --preset distilled --out models/tiny-shakespeare-gpt2"
    assert line + " --overwrite" in card
    draft = (MODELS / "tiny-shakespeare-ngram" / "README.md").read_text(encoding="utf-8")
    assert "python -m course.build draft --out models/tiny-shakespeare-ngram --overwrite" in draft


@pytest.mark.parametrize(
    "changes, exc, match",
    [
        ({"ema_decay": 1.0}, ValueError, r"ema_decay=1.0 is out of range: it must be 0 <= ema"),
        ({"ema_decay": -0.5}, ValueError, r"ema_decay=-0.5 must be a finite number >= 0"),
        ({"ema_decay": float("nan")}, ValueError, r"ema_decay=nan must be a finite number >= 0"),
        ({"ema_decay": True}, TypeError, r"ema_decay must be a number >= 0, got bool"),
        ({"steps": 0}, ValueError, r"steps=0 is out of range: it must be >= 1"),
        ({"steps": 2.5}, TypeError, r"steps must be an int >= 1, got float"),
        ({"block_size": 1}, ValueError, r"block_size=1 is out of range: it must be >= 2"),
        ({"n_head": 0}, ValueError, r"n_head=0 is out of range"),
        ({"lr": 0}, ValueError, r"lr=0 must be a finite number > 0"),
        ({"dropout": 1.0}, ValueError, r"dropout=1.0 is out of range: it must be 0 <= dropout"),
        ({"min_lr_ratio": 1.5}, ValueError, r"min_lr_ratio=1.5 is out of range"),
        ({"save_dtype": "int8"}, ValueError, r"save_dtype='int8' must be one of"),
        ({"seed": -1}, ValueError, r"seed=-1 is outside the allowed range"),
        ({"teachers": "teachers/d10"}, TypeError, r"teachers must be a list of folders"),
    ],
)
def test_a_bad_setting_is_refused_before_anything_runs(changes, exc, match):
    with pytest.raises(exc, match=match):
        BuildConfig(**changes)


# --- the command's door: one line, status 2, never a traceback --------------------------------


@pytest.mark.parametrize(
    "argv, says",
    [
        (["model", "--out", "{tmp}/x", "--steps", "0"], "steps=0"),
        (["model", "--out", "{tmp}/x", "--ema-decay", "1"], "ema_decay=1.0"),
        (["model", "--out", "{tmp}/x", "--init-from", "{tmp}/nope"], "--init-from"),
        (["model", "--out", "{tmp}/x", "--teachers", "{tmp}/nope"], "--teachers"),
        (["model", "--out", "{tmp}/x", "--preset", "nope"], "'nope'"),
        (["model", "--out", "{tmp}/file"], "is a file, not a folder"),
        (["model", "--out", "{tmp}/file/x"], "is a file, so no folder"),
        (["model", "--out", str(SHIPPED)], "--overwrite"),
        (["draft", "--out", "{tmp}/x", "--order", "9"], "--order=9 is out of range"),
        (["draft", "--out", "{tmp}/x", "--min-counts", "a,b"], "--min-counts 'a,b'"),
        (["draft", "--out", "{tmp}/x", "--min-counts", "8"], "--order 3 needs 2"),
        (["draft", "--out", "{tmp}/x", "--order", "banana"], "'banana'"),
    ],
)
def test_a_bad_command_line_ends_with_one_line_and_status_2(tmp_path, capsys, argv, says):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(SystemExit) as stop:
        build.main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert says in err.splitlines()[-1] and "Traceback" not in err
    assert not (tmp_path / "x").exists()


# --- the builds (tiny runs; .ci/run) ----------------------------------------------------------


@pytest.fixture(scope="module")
def saved_tiny(tmp_path_factory):
    """Two tiny saved models with the bundled tokenizer: a start and teachers for the build."""
    _, tok = load_model(BUNDLED_MODEL_DIR)
    folders = []
    for seed in (0, 1):
        folder = tmp_path_factory.mktemp(f"tiny{seed}")
        tiny(seed, vocab=len(tok), n_embd=32).save_pretrained(folder)
        tok.save_pretrained(folder)
        folders.append(folder)
    return folders


@pytest.mark.commands  # a model build: run by .ci/run (tests/README.md)
def test_the_build_starts_from_a_saved_model_and_learns_from_teachers(tmp_path, saved_tiny):
    start, other = saved_tiny
    config = dataclasses.replace(TINY_BUILD, init_from=start, teachers=[start, other], lr=1e-12)
    stats = build_model(tmp_path / "s", config)
    assert stats["init_from"] == start.name and stats["teachers"] == [start.name, other.name]
    saved, first = load_model(tmp_path / "s")[0], load_model(start)[0]
    assert saved.config.n_embd == 32 and saved.config.n_layer == 1  # the start's shape
    pairs = zip(saved.parameters(), first.parameters(), strict=True)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in pairs)  # lr 1e-12 keeps the start
    # the loss it trained on is the soft one: at least the ensemble's entropy, not the text's
    assert stats["held_out_nats_per_token"] > 0.9 * math.log(len(load_model(start)[1]))
    assert stats["init_steps"] is None  # the start was saved by hand, not by a build
    again = build_model(tmp_path / "t", dataclasses.replace(TINY_BUILD, init_from=tmp_path / "s"))
    assert again["init_steps"] == 2 and again["teachers"] == []  # the start's own 2 steps


@pytest.mark.commands  # a model build: run by .ci/run (tests/README.md)
def test_the_build_refuses_a_start_of_another_shape_or_teachers_of_another_vocabulary(
    tmp_path, saved_tiny
):
    start, _ = saved_tiny
    wide = dataclasses.replace(TINY_BUILD, init_from=start, n_embd=256)
    with pytest.raises(ValueError, match=r"another shape than asked: n_embd=256 \(the model's"):
        build_model(tmp_path / "a", wide)
    odd = tmp_path / "odd"
    GPT2LMHeadModel(tiny_gpt2_config(4104, n_layer=1, n_head=2, n_embd=16)).save_pretrained(odd)
    load_model(start)[1].save_pretrained(odd)  # 8 more rows than its tokenizer has tokens
    with pytest.raises(ValueError, match="vocabulary of 4104 tokens and the tokenizer 4096"):
        build_model(
            tmp_path / "b", dataclasses.replace(TINY_BUILD, init_from=start, teachers=[odd])
        )
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.commands  # a model build: run by .ci/run (tests/README.md)
def test_the_build_saves_a_moving_average_of_the_weights_when_asked(tmp_path):
    # one seeded trajectory, three builds: the average's decay decides what is saved
    tiny_build = BuildConfig(
        steps=3,
        n_layer=1,
        n_head=2,
        n_embd=32,
        n_positions=64,
        block_size=64,
        batch_size=2,
        tokenizer_from=BUNDLED_MODEL_DIR,
        warmup=1,
    )
    stats, weights = {}, {}
    for decay in (0.0, 0.5, 1e-9):
        config = dataclasses.replace(tiny_build, ema_decay=decay)
        stats[decay] = build_model(tmp_path / str(decay), config)
        model = load_model(tmp_path / str(decay))[0]
        weights[decay] = [p.detach().clone() for p in model.parameters()]
    assert stats[0.0]["ema_decay"] == 0.0 and "held_out_nats_per_char_last_step" not in stats[0.0]
    for decay in (0.5, 1e-9):  # the same last step's weights, scored before they are replaced
        assert stats[decay]["ema_decay"] == decay
        last = stats[decay]["held_out_nats_per_char_last_step"]
        assert last == stats[0.0]["held_out_nats_per_char"]
    pairs = zip(weights[0.0], weights[1e-9], strict=True)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in pairs)  # decay ~0: the last step
    pairs = zip(weights[0.0], weights[0.5], strict=True)
    assert any(not torch.allclose(a, b, atol=1e-6) for a, b in pairs)  # 0.5 keeps earlier steps
    assert stats[0.5]["held_out_nats_per_char"] != stats[0.0]["held_out_nats_per_char"]


@pytest.mark.commands  # the build command, three processes: run by .ci/run (tests/README.md)
@pytest.mark.parametrize(
    "what,folder", [("draft", "tiny-shakespeare-ngram"), ("model", "tiny-shakespeare-gpt2")]
)
def test_a_build_never_overwrites_shipped_files_unless_told(what, folder):
    shipped_dir = MODELS / folder
    before = {p.name: p.stat().st_mtime_ns for p in shipped_dir.iterdir()}
    no_what = run_python("-m", "course.build")
    assert no_what.returncode == 2 and "model" in no_what.stderr and "draft" in no_what.stderr
    no_out = run_python("-m", "course.build", what)
    assert no_out.returncode == 2 and "--out" in no_out.stderr
    shipped = run_python("-m", "course.build", what, "--out", str(shipped_dir))
    assert shipped.returncode == 2 and "--overwrite" in shipped.stderr
    assert "Traceback" not in shipped.stderr
    assert {p.name: p.stat().st_mtime_ns for p in shipped_dir.iterdir()} == before
