"""Stage 3 machinery: the denoiser, the sampler, training, checkpoints, windows, metrics."""

import numpy as np
import pytest
import torch

from vasa_core import schema
from vasa_core.audio import compute_features, condition
from vasa_core.data import corpus
from vasa_core.errors import VasaError
from vasa_core.eval import metrics
from vasa_core.motion import diffusion
from vasa_core.motion.baseline import baseline_motion
from vasa_core.motion.checkpoint import load_checkpoint, save_checkpoint
from vasa_core.motion.controls import Controls
from vasa_core.motion.generator import MotionGenerator
from vasa_core.motion.model import Config, MotionDenoiser
from vasa_core.settings import Sampling
from vasa_core.training import train

TINY = Config(window=20, context=4, width=32, layers=1, heads=2)


def inputs(batch=3, config=TINY, seed=0):
    g = torch.Generator().manual_seed(seed)
    w, p = config.window, config.context
    yes = torch.ones(batch, dtype=torch.bool)
    return dict(
        x_t=torch.randn(batch, w, schema.DIM, generator=g),
        t=torch.rand(batch, generator=g),
        audio=torch.randn(batch, w, condition.DIM, generator=g),
        controls=torch.randn(batch, 10, generator=g),
        context_motion=torch.randn(batch, p, schema.DIM, generator=g),
        context_audio=torch.randn(batch, p, condition.DIM, generator=g),
        keep_audio=yes,
        keep_controls=yes,
        keep_context=yes,
    )


def test_the_denoiser_predicts_a_window_and_hears_each_condition():
    model = MotionDenoiser(TINY).eval()
    x = inputs()
    out = model(**x)
    assert out.shape == (3, TINY.window, schema.DIM)
    no = torch.zeros(3, dtype=torch.bool)
    for name in ("keep_audio", "keep_controls", "keep_context"):
        assert not torch.allclose(model(**(x | {name: no})), out), name
    assert not torch.allclose(model(**(x | {"audio": x["audio"] + 1})), out)


CONDITION_INPUTS = ("audio", "controls", "context_motion", "context_audio")


def test_sampling_is_deterministic_and_guidance_zero_changes_nothing():
    model = MotionDenoiser(TINY).eval()
    x = inputs(batch=1)

    def denoise(x_t, t, keep):
        flags = {f"keep_{k}": v for k, v in keep.items()}
        given = [x[k].expand(len(x_t), *x[k].shape[1:]) for k in CONDITION_INPUTS]
        return model(x_t, t, *given, **flags)

    shape = (1, TINY.window, schema.DIM)
    a = diffusion.sample(denoise, shape, steps=5, generator=torch.Generator().manual_seed(1))
    b = diffusion.sample(denoise, shape, steps=5, generator=torch.Generator().manual_seed(1))
    c = diffusion.sample(denoise, shape, steps=5, generator=torch.Generator().manual_seed(2))
    d = diffusion.sample(
        denoise, shape, steps=5, guidance={"audio": 0.0}, generator=torch.Generator().manual_seed(1)
    )
    e = diffusion.sample(
        denoise, shape, steps=5, guidance={"audio": 2.0}, generator=torch.Generator().manual_seed(1)
    )
    assert torch.equal(a, b) and torch.equal(a, d)
    assert not torch.allclose(a, c) and not torch.allclose(a, e)


def test_noising_reaches_pure_noise_and_keeps_the_signal_at_t0():
    x0 = torch.randn(2, 5, schema.DIM)
    noise = torch.randn_like(x0)
    assert torch.allclose(diffusion.noisy(x0, torch.zeros(2), noise), x0, atol=1e-3)
    assert torch.allclose(diffusion.noisy(x0, torch.ones(2), noise), noise, atol=2e-2)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    corpus.build(folder / "c", minutes=0.5, seed=4, progress=False)
    out = train(
        folder / "c",
        folder / "m.safetensors",
        steps=30,
        batch_size=4,
        config=TINY,
        val_every=10,
        progress=False,
    )
    return folder, out


def test_training_writes_a_checkpoint_that_loads_and_resumes(tiny_model):
    folder, path = tiny_model
    model, mean, std, info = load_checkpoint(path)
    assert model.config == TINY and mean.shape == (schema.DIM,) and (std > 0).all()
    assert info["steps"] == 30 and len(info["history"]) == 3
    assert all(np.isfinite(h["val_loss"]) for h in info["history"])
    train(
        folder / "c",
        path,
        steps=40,
        batch_size=4,
        config=TINY,
        val_every=10,
        progress=False,
        resume=True,
    )
    assert load_checkpoint(path)[3]["steps"] == 40


def test_bad_checkpoints_are_refused(tmp_path, tiny_model):
    (tmp_path / "junk.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(VasaError, match="not a motion checkpoint"):
        load_checkpoint(tmp_path / "junk.safetensors")
    with pytest.raises(VasaError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.safetensors")
    model, mean, std, _ = load_checkpoint(tiny_model[1])
    old = tmp_path / "old.safetensors"
    save_checkpoint(old, model, mean, std, {})
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    save_file(load_file(str(old)), str(old), metadata={"schema_version": "0"})
    with pytest.raises(VasaError, match="schema"):
        load_checkpoint(old)
    # A checkpoint trained on the mel features, before the phonetic encoder, is refused
    # with a reason rather than fed rows it cannot read.
    with safe_open(str(tiny_model[1]), framework="pt") as f:
        meta = {k: v for k, v in f.metadata().items() if k != "condition"}
    save_file(load_file(str(tiny_model[1])), str(old), metadata=meta)
    with pytest.raises(VasaError, match="another audio condition"):
        load_checkpoint(old)


def test_any_length_in_windows_and_streaming_gives_the_same_motion(tiny_model):
    generator = MotionGenerator(tiny_model[1])
    clip = corpus.make_clip(9, 0, keep_audio=True)
    features = compute_features(clip.samples)
    rows = generator.listen(features)
    whole = generator.generate(features, seed=3, sampling=Sampling(steps=4))
    assert whole.shape == (features.frames, schema.DIM)
    assert np.all(whole >= schema.LOW) and np.all(whole <= schema.HIGH)
    chunks = [rows[i : i + 7] for i in range(0, len(rows), 7)]
    streamed = np.stack(list(generator.stream(chunks, seed=3, sampling=Sampling(steps=4))))
    assert np.allclose(streamed, whole, atol=1e-5)
    assert len(list(generator.stream([rows[:3]], sampling=Sampling(steps=2)))) == 3
    other = generator.generate(features, seed=4, sampling=Sampling(steps=4))
    assert not np.allclose(other, whole)
    sad = generator.generate(
        features, Controls(emotion="sad", intensity=1.0), seed=3, sampling=Sampling(steps=4)
    )
    assert not np.allclose(sad, whole)


def test_lip_sync_metrics_find_the_offset_and_the_baseline_follows_loudness():
    clip = corpus.make_clip(2, 1, keep_audio=True)
    features = compute_features(clip.samples)
    base = baseline_motion(features)
    sync = metrics.lip_sync(base, features)
    assert sync["correlation"] > 0.7 and sync["offset"] == 0
    late = np.roll(base, 2, axis=0)  # the mouth two frames behind the voice
    assert metrics.lip_sync(late, features)["offset"] == 2
    summary = metrics.summary(clip.motion, features)
    assert 0 <= summary["blinks_per_minute"] < 60 and summary["delta_p"] > 0
    assert metrics.head_motion(base)["delta_p"] == 0


def test_the_shipped_checkpoint_loads_with_this_code_and_schema_and_listens():
    """The checkpoint in vasa_core/checkpoints/ (see its MODEL_CARD.md) still fits the code:
    it loads, and on a held-out voice its mouth follows the speech and rests in pauses."""
    generator = MotionGenerator()
    assert generator.training["steps"] >= 10000
    clip = next(
        c
        for i in range(100)
        if "+m5" in (c := corpus.make_clip(99, i, keep_audio=True)).info["voice"]
    )
    features = compute_features(clip.samples)
    motion = generator.generate(features, clip.controls, seed=0)
    sync = metrics.lip_sync(motion, features)
    assert sync["correlation"] > 0.3 and abs(sync["offset"]) <= 1
    # The mouth opens in speech and rests outside it as much as the corpus's own mouth
    # does on this clip (whose voice-activity flag calls some short pauses non-speech).
    ratios = []
    for mouth in (motion, clip.motion):
        opening = metrics.mouth_opening(mouth)
        ratios.append(opening[features.speech].mean() / opening[~features.speech].mean())
    assert ratios[0] > 1.5 and ratios[0] > 0.7 * ratios[1], ratios


def test_without_held_out_voices_the_last_clips_are_held_out():
    from types import SimpleNamespace

    from vasa_core.training import split

    real = SimpleNamespace(voices=[""] * 12)  # ingested videos carry no voice name
    train, test = split(real)
    assert test == [11] and train == list(range(11))
    corpus = SimpleNamespace(voices=["en", "en-us+m5", "fr"])
    assert split(corpus) == ([0, 2], [1])  # held-out voices are the validation set
    assert split(SimpleNamespace(voices=["de"])) == ([0], [0])  # one clip: nothing to spare


def test_guidance_combines_the_stacked_passes_as_vasa_1_does():
    # A denoiser whose answer only says which conditions it was given: audio 1, controls 2.
    def denoise(x_t, t, keep):
        value = keep["audio"].float() + 2 * keep["controls"].float()
        return value[:, None, None].expand_as(x_t)

    shape = (2, 4, schema.DIM)
    one_step = diffusion.sample(denoise, shape, steps=1, guidance={"audio": 2.0})
    assert torch.allclose(one_step, torch.full(shape, (1 + 2) * 3 - 2 * 2.0))
    both = diffusion.sample(denoise, shape, steps=1, guidance={"audio": 2.0, "controls": 0.5})
    assert torch.allclose(both, torch.full(shape, (1 + 2.5) * 3 - 2 * 2.0 - 0.5 * 1.0))


def test_guidance_per_channel_leaves_unweighted_channels_at_the_conditional():
    def denoise(x_t, t, keep):
        value = keep["audio"].float() + 2 * keep["controls"].float()
        return value[:, None, None].expand_as(x_t)

    shape = (1, 4, schema.DIM)
    weights = torch.zeros(schema.DIM)
    weights[3] = 2.0
    out = diffusion.sample(denoise, shape, steps=1, guidance={"audio": weights})
    assert torch.allclose(out[..., 3], torch.full((1, 4), (1 + 2) * 3 - 2 * 2.0))
    others = torch.cat([out[..., :3], out[..., 4:]], dim=-1)
    assert torch.allclose(others, torch.full_like(others, 3.0))  # plain H(x_t, C)


def test_temperature_widens_the_starting_noise_of_its_channels_only():
    def keep_as_is(x_t, t, keep):  # a "denoiser" that trusts its input
        return x_t

    shape = (1, 8, schema.DIM)
    temperature = torch.ones(schema.DIM)
    temperature[0] = 2.0

    def run(scale):
        return diffusion.sample(
            keep_as_is,
            shape,
            steps=3,
            temperature=scale,
            generator=torch.Generator().manual_seed(4),
        )

    plain, warm = run(1.0), run(temperature)
    assert torch.allclose(warm[..., 0], 2 * plain[..., 0], atol=1e-5)
    assert torch.allclose(warm[..., 1:], plain[..., 1:], atol=1e-5)


def test_the_head_moves_as_much_as_in_the_corpus_only_with_its_temperature():
    # Held-out voices: the temperature was chosen on training voices.
    clips = list(corpus.evaluation_clips(5, "held-out"))
    generator = MotionGenerator()
    pose = [schema.index(n) for n in ("yaw", "pitch", "roll")]
    jaw = schema.index("jaw_open")

    def sample(sampling):
        return [
            generator.generate(compute_features(c.samples), c.controls, 0, sampling) for c in clips
        ]

    def spread(motions):
        return np.mean([m[:, pose].std(axis=0).mean() for m in motions])

    warm = sample(Sampling())
    cold = sample(Sampling(head_temperature=1.0))
    truth = spread([c.motion for c in clips])
    # The network alone regresses the head to its mean (to 81% of the corpus's spread on
    # these clips with the lips' guidance at 0.6).
    assert spread(cold) < 0.85 * truth
    # On 5 clips (137% of the corpus's here); the model card's 60-clip figure
    # (benchmarks/motion_eval.py) is the one the ±30% target is read on (115% there).
    assert spread(warm) > 1.3 * spread(cold) and 0.7 * truth < spread(warm) < 1.5 * truth
    for w, c in zip(warm, cold, strict=True):  # the mouth is not the head's business
        assert np.abs(w[:, jaw] - c[:, jaw]).mean() < 0.05


def test_brief_closures_are_the_corpus_p_b_m_and_not_its_vowels():
    from vasa_core.eval.articulation import centre_frames
    from vasa_core.training.setup import brief_closures

    bilabials, vowels = [], []
    for clip in corpus.evaluation_clips(4, voices="training"):
        closures, frames = brief_closures(clip.motion), len(clip.motion)
        phonemes = clip.info["phonemes"]
        bilabials += [closures[f].any() for f in centre_frames(phonemes, 25.0, frames, "bilabial")]
        # A vowel's own centre frame: its neighbours may be the closure beside a short one.
        vowels += [closures[f[len(f) // 2]] for f in centre_frames(phonemes, 25.0, frames, "open")]
    assert len(bilabials) >= 5 and np.mean(bilabials) >= 0.8
    assert len(vowels) >= 5 and np.mean(vowels) <= 0.1


def test_a_run_can_start_from_a_checkpoint_and_weigh_the_closures(tiny_model, tmp_path):
    folder, path = tiny_model
    start, mean, std, _ = load_checkpoint(path)

    def run(name, **options):
        out = train(
            folder / "c",
            tmp_path / name,
            steps=6,
            batch_size=4,
            val_every=3,
            progress=False,
            init=path,
            **options,
        )
        return load_checkpoint(out)

    still, still_mean, _, info = run("still.safetensors", lr=0.0)
    assert info["init"] == path.name and np.array_equal(still_mean, mean)
    for name, weight in start.state_dict().items():  # a rate of 0: the weights it started from
        assert torch.equal(still.state_dict()[name], weight)
    plain = run("plain.safetensors")[0].state_dict()
    weighed = run("weighed.safetensors", closure_weight=5.0)[0].state_dict()
    assert any(not torch.equal(plain[k], weighed[k]) for k in plain)
    with pytest.raises(VasaError, match="not what this run asks for"):
        run("other.safetensors", config=Config(window=8, context=4, width=32, layers=1, heads=2))


def test_the_sampler_starts_each_step_from_the_projected_prediction():
    seen = []

    def denoise(x_t, t, keep):  # remembers what it was given, predicts ones
        seen.append(x_t.clone())
        return torch.ones_like(x_t)

    def halve(x0):
        return 0.5 * x0

    shape = (1, 4, schema.DIM)
    out = diffusion.sample(denoise, shape, steps=3, project=halve)
    assert torch.allclose(out, torch.full(shape, 0.5))  # the last step returns the projection
    # Step 2 started from the first step's projected x0 (0.5), not the network's (1.0).
    a, a_next = (diffusion.alpha_bar(torch.tensor(t)).clamp(1e-5, 1.0) for t in (1.0, 2 / 3))
    eps = (seen[0] - a.sqrt() * 0.5) / (1 - a).sqrt()
    assert torch.allclose(seen[1], a_next.sqrt() * 0.5 + (1 - a_next).sqrt() * eps, atol=1e-5)


def test_the_lips_close_where_the_encoder_hears_a_closure_and_only_there():
    from vasa_core.face.basis import CLOSED_GAP
    from vasa_core.motion.generator import BILABIAL

    generator = MotionGenerator()
    clip = next(corpus.evaluation_clips(1, "training"))
    features = compute_features(clip.samples)
    rows = generator.listen(features)
    free = Sampling(closure_guidance=0.0)
    opening = metrics.mouth_opening(generator.generate(features, clip.controls, 0, free))
    wide = np.flatnonzero(opening > 4 * CLOSED_GAP)[::7][:6]
    assert len(wide) >= 3

    def mouth(sampling, posterior):
        heard = rows.copy()
        heard[wide, BILABIAL] = posterior  # as if p, b or m were heard there
        motion = np.stack(list(generator.stream([heard], clip.controls, 0, sampling)))
        return metrics.mouth_opening(motion), motion[:, schema.index("lip_press")]

    # As surely as the encoder heard many sung p/b/m: the full pull.
    ramp = Sampling().closure_ramp
    pulled, press = mouth(Sampling(), ramp[1])
    unpulled, _ = mouth(free, ramp[1])
    assert (pulled[wide] < CLOSED_GAP).all() and (press[wide] >= schema.BILABIAL_PRESS).all()
    assert (unpulled[wide] >= CLOSED_GAP).any()  # the network alone left some lips apart
    # Half-way up the ramp, half the pull: shut further than without, not all the way.
    half, _ = mouth(Sampling(), np.mean(ramp))
    unhalf, _ = mouth(free, np.mean(ramp))
    assert pulled[wide].mean() < half[wide].mean() < 0.8 * unhalf[wide].mean()
    elsewhere = np.ones(len(pulled), bool)
    elsewhere[np.clip(wide[:, None] + np.arange(-3, 4), 0, len(pulled) - 1)] = False
    assert np.abs(pulled - opening)[elsewhere].mean() < 0.25 * opening[elsewhere].mean()
    assert generator.closure_pull(rows * 0, 1.0, ramp) is None  # nothing heard, nothing pulled
    with pytest.raises(VasaError, match="closure_guidance"):
        Sampling(closure_guidance=1.5)
    for bad in ((0.5, 0.5), (0.8, 0.5), (-0.1, 0.3), (0.2, 1.2), (0.2,), "ab"):
        with pytest.raises(VasaError, match="closure_ramp"):
            Sampling(closure_ramp=bad)
