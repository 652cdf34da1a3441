"""ONNX Runtime backend: same labels as torch on real photos, export cache keyed by the weights, fallback to
torch with a reason, int8 preview agreement with fp32."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from fcn_core import runtime_int8, runtime_onnx
from fcn_core.data.images import read_image
from fcn_core.data.palette import voc_palette
from fcn_core.models import build_model
from fcn_core.predictor import Predictor
from fcn_core.weights import CAFFE_PREPROCESSING, LoadedModel, load_model

TINY = 0.0625


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Each test exports into its own cache folder (never the user's)."""
    monkeypatch.setenv("FCN_STUDIO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "onnx"


def _loaded(arch: str = "fcn-multi", n_class: int = 21, seed: int = 0, batch_norm: bool = False):
    torch.manual_seed(seed)
    model = build_model(arch, n_class, width=TINY, batch_norm=batch_norm)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                torch.nn.init.normal_(m.bias, std=0.01)
    return LoadedModel(model=model.eval(), arch=arch, num_classes=n_class,
                       class_names=[f"c{i}" for i in range(n_class)], palette=voc_palette(256),
                       void_index=255,
                       preprocessing=CAFFE_PREPROCESSING, options={"width": TINY, "batch_norm": batch_norm})


def _copy(loaded: LoadedModel) -> LoadedModel:
    import copy

    return copy.deepcopy(loaded)


def _noise_images(folder, *, seed: int, size: tuple[int, int], count: int = 6):
    """``count`` PNG files of uniform noise (calibration inputs for tiny random nets)."""
    import cv2

    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        paths.append(folder / f"p{i}.png")
        cv2.imwrite(str(paths[-1]), rng.integers(0, 256, (*size, 3), dtype=np.uint8))
    return paths


def _photos(shared_data, crops):
    folder = shared_data("voc2012-sample", "JPEGImages")
    paths = sorted(folder.glob("*.jpg"))[: len(crops)]
    return [np.ascontiguousarray(read_image(p)[y0:y1, x0:x1]) for p, (y0, y1, x0, x1) in zip(paths, crops)]


@pytest.mark.parametrize("arch", ["fcn-multi", "fcn8s"])
def test_runtime_labels_equal_torch_on_real_photos_of_odd_sizes(shared_data, arch):
    pytest.importorskip("onnxruntime")
    loaded = _loaded(arch, batch_norm=arch == "fcn-multi")
    ref = Predictor(_copy(loaded), device="cpu", backend="torch")
    ort = Predictor(_copy(loaded), device="cpu", backend="onnxruntime")
    assert ort.backend == "onnxruntime" and ort.backend_note is None, ort.notes
    assert "onnxruntime" in ort.describe()
    # Odd, non-square sizes, including one smaller than the network's stride: the graph is size-agnostic.
    photos = _photos(shared_data, [(0, 97, 0, 131), (10, 211, 33, 110), (40, 163, 0, 257), (5, 28, 7, 19)])
    for img in photos:
        a, b = ref.predict(img), ort.predict(img)
        assert sorted(a) == sorted(b) == sorted(loaded.strides)  # every stride from one run
        for s in a:
            assert b[s].labels.shape == img.shape[:2]
            # Equal labels, except where torch's own top two classes tie to float rounding (random weights
            # make such ties; summation order differs between any two fp32 kernels).
            differ = b[s].labels != a[s].labels
            assert differ.sum() <= 2 and (a[s].margin[differ] < 1e-4).all(), (s, img.shape, differ.sum())
            np.testing.assert_allclose(b[s].confidence, a[s].confidence, atol=1e-3)
            np.testing.assert_allclose(b[s].margin, a[s].margin, atol=1e-3)
    # Batches of equal-sized images and labels-only requests go through the same graph.
    batch = ort.predict_batch([photos[0], photos[0][::-1].copy()], with_confidence=False)
    flipped = ref.predict(photos[0][::-1].copy())[8]
    assert ((batch[1][8].labels == flipped.labels) | (flipped.margin < 1e-4)).all()


def test_export_cache_reused_and_invalidated_when_weights_change(cache, monkeypatch):
    pytest.importorskip("onnxruntime")
    exports = []
    real_export = runtime_onnx.export_onnx
    monkeypatch.setattr(runtime_onnx, "export_onnx",
                        lambda lm, path: (exports.append(path), real_export(lm, path)))
    loaded = _loaded("fcn32s", n_class=5)
    img = np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)
    first = Predictor(_copy(loaded), device="cpu", backend="onnxruntime")
    again = Predictor(_copy(loaded), device="cpu", backend="onnxruntime")
    assert len(exports) == 1 and exports[0].exists()  # same weights: exported once, then read from the cache
    np.testing.assert_array_equal(first.predict(img)[32].labels, again.predict(img)[32].labels)

    changed = _copy(loaded)
    with torch.no_grad():
        changed.model.score_fr.bias[3] += 1e4  # class 3 now wins everywhere
    pred = Predictor(_copy(changed), device="cpu", backend="onnxruntime")
    assert len(exports) == 2 and exports[1] != exports[0]
    labels = pred.predict(img)[32].labels
    np.testing.assert_array_equal(labels, Predictor(changed, device="cpu").predict(img)[32].labels)
    assert (labels == 3).all()
    assert sorted(p.name for p in cache.glob("*.onnx")) == sorted(p.name for p in exports)


def test_a_damaged_cached_export_is_exported_again(cache):
    pytest.importorskip("onnxruntime")
    loaded = _loaded("fcn32s", n_class=5)
    first = runtime_onnx.load_fp32(_copy(loaded))
    first.path.write_bytes(first.path.read_bytes()[:1000])  # e.g. a disk that filled up, a killed copy
    again = Predictor(_copy(loaded), device="cpu", backend="onnxruntime")
    assert again.backend == "onnxruntime" and again.backend_note is None
    img = np.random.default_rng(2).integers(0, 256, (36, 44, 3), dtype=np.uint8)
    ref = Predictor(loaded, device="cpu").predict(img)[32]
    assert ((again.predict(img)[32].labels == ref.labels) | (ref.margin < 1e-4)).all()


@pytest.mark.parametrize("backend", ["auto", "onnxruntime"])
def test_falls_back_to_torch_with_a_note_when_the_runtime_is_missing(monkeypatch, backend):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` raise ImportError
    loaded = _loaded("fcn32s", n_class=5)
    img = np.random.default_rng(1).integers(0, 256, (33, 47, 3), dtype=np.uint8)
    pred = Predictor(_copy(loaded), device="cpu", backend=backend)
    assert pred.backend == "torch" and pred.precision == "fp32"
    assert "onnxruntime is not installed" in pred.backend_note and pred.backend_note in pred.notes
    ref = Predictor(loaded, device="cpu", backend="torch")
    assert ref.backend_note is None
    np.testing.assert_array_equal(pred.predict(img)[32].labels, ref.predict(img)[32].labels)


def test_falls_back_to_torch_when_the_export_fails(monkeypatch):
    pytest.importorskip("onnxruntime")

    def broken(loaded, path):
        raise runtime_onnx.RuntimeUnavailable("ONNX export failed (test)")

    monkeypatch.setattr(runtime_onnx, "export_onnx", broken)
    pred = Predictor(_loaded("fcn32s", n_class=5), device="cpu", backend="auto")
    assert pred.backend == "torch" and "ONNX export failed (test)" in pred.backend_note


def test_auto_keeps_torch_silently_where_the_runtime_does_not_apply():
    pred = Predictor(_loaded("fcn32s", n_class=5), device="cpu", precision="bf16", backend="auto")
    assert pred.backend == "torch" and pred.backend_note is None and pred.precision == "bf16"
    with pytest.raises(ValueError, match="backend"):
        Predictor(_loaded("fcn32s", n_class=5), device="cpu", backend="tensorrt")


def test_int8_without_calibration_images_runs_fp32_torch_and_says_why():
    pred = Predictor(_loaded("fcn32s", n_class=5), device="cpu", precision="int8")
    assert pred.backend == "torch" and pred.precision == "fp32" and pred.int8_agreement is None
    assert "calibration" in pred.backend_note


def test_int8_agreement_is_measured_on_held_out_images_and_high(tmp_path, cache):
    """The demo model on demo scenes (its own domain, so labels are meaningful rather than near-ties)."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxruntime.quantization")
    import cv2

    from fcn_core.demo_data import make_demo_sample
    from fcn_core.resources import DEMO_MODEL

    paths = []
    for i in range(10):
        img, _ = make_demo_sample(i, seed=7, size=(96, 72))
        paths.append(tmp_path / f"scene{i}.jpg")
        cv2.imwrite(str(paths[-1]), img[:, :, ::-1])
    calibration = runtime_int8.Calibration(paths, calibrate=7, held_out=3)
    pred = Predictor(load_model(DEMO_MODEL), device="cpu", precision="int8", calibration=calibration)
    assert pred.backend == "onnxruntime" and pred.precision == "int8", pred.notes
    assert 0.95 <= pred.int8_agreement <= 1.0
    # Measured, not assumed: recompute it from the two graphs on the held-out images.
    fp32 = runtime_onnx.load_fp32(load_model(DEMO_MODEL))
    _, held = calibration.split()
    assert len(held) == 3 and not set(held) & set(calibration.split()[0])
    measured = runtime_int8.int8_agreement(fp32, pred._forward, pred.loaded, held)
    assert measured == pytest.approx(pred.int8_agreement, abs=1e-6)
    # The quantized graph and its report are cached per model + calibration images.
    assert len(list(cache.glob("*-int8-*.onnx"))) == 1 and len(list(cache.glob("*-int8-*.json"))) == 1
    again = Predictor(load_model(DEMO_MODEL), device="cpu", precision="int8", calibration=calibration)
    assert again.int8_agreement == pred.int8_agreement
    labels = pred.predict(read_image(paths[-1]))[8].labels
    assert labels.shape == (72, 96) and labels.max() < pred.num_classes


def test_trained_demo_model_labels_identical_on_real_photos(shared_data):
    """A trained model on real photos: labels match torch fp32 (a pixel may differ only at a near-tie,
    where torch's own top-two margin is below 1e-5: two fp32 kernels never round alike everywhere)."""
    pytest.importorskip("onnxruntime")
    from fcn_core.resources import DEMO_MODEL

    ref = Predictor(load_model(DEMO_MODEL), device="cpu", backend="torch")
    ort = Predictor(load_model(DEMO_MODEL), device="cpu", backend="auto")
    assert ort.backend == "onnxruntime"
    for img in _photos(shared_data, [(0, 121, 0, 163), (20, 187, 50, 141)]):
        a, b = ref.predict(img), ort.predict(img)
        for s in (32, 16, 8):
            differ = b[s].labels != a[s].labels
            assert differ.sum() <= 1 and (a[s].margin[differ] < 1e-5).all(), (s, differ.sum())


def test_cli_predict_backends_write_the_same_labels_and_int8_reports_agreement(tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    from PIL import Image

    from fcn_core.cli import main
    from fcn_core.demo_data import make_demo_sample
    from fcn_core.resources import DEMO_MODEL

    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(6):
        Image.fromarray(make_demo_sample(i, seed=3, size=(64, 48))[0]).save(folder / f"s{i}.png")
    outs = {}
    for backend in ("torch", "onnxruntime"):
        outs[backend] = tmp_path / backend
        rc = main(["predict", str(folder), "--weights", str(DEMO_MODEL), "--out", str(outs[backend]),
                   "--device", "cpu", "--backend", backend, "--no-progress"])
        err = capsys.readouterr().err
        assert rc == 0, err
        assert ("onnxruntime" in err) == (backend == "onnxruntime")  # the summary line names the backend
    from fcn_core.predictor import Predictor
    from fcn_core.weights import load_model

    ref = Predictor(load_model(DEMO_MODEL), device="cpu")
    for png in sorted(outs["torch"].iterdir()):
        a, b = np.asarray(Image.open(png)), np.asarray(Image.open(outs["onnxruntime"] / png.name))
        differ = a != b  # only at near-ties of torch's own scores (the runtimes sum in another order)
        if differ.any():
            margin = ref.predict(np.asarray(Image.open(folder / png.name).convert("RGB")))[8].margin
            assert differ.sum() <= 2 and (margin[differ] < 1e-4).all(), (png.name, margin[differ])
    rc = main(["predict", str(folder), "--weights", str(DEMO_MODEL), "--out", str(tmp_path / "int8"),
               "--device", "cpu", "--precision", "int8", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "int8 preview" in err and "held-out" in err and "cpu int8 onnxruntime" in err
    assert len(list((tmp_path / "int8").glob("*.png"))) == 6


def test_cli_predict_notes_the_fallback_when_the_runtime_is_missing(tmp_path, capsys, monkeypatch):
    from fcn_core.cli import main
    from tests.test_pipeline import tiny_checkpoint, write_photo

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    write_photo(tmp_path / "a.png", 30, 41, 0)
    rc = main(["predict", str(tmp_path / "a.png"), "--weights", str(tiny_checkpoint(tmp_path, "fcn32s")),
               "--out", str(tmp_path / "out"), "--device", "cpu", "--backend", "onnxruntime",
               "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "note: running torch fp32: onnxruntime is not installed" in err
    assert (tmp_path / "out" / "a.png").exists()


def test_cli_evaluate_int8_calibrates_on_the_dataset_and_says_it_is_a_preview(tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    from fcn_core.cli import main
    from fcn_core.demo_data import make_demo_dataset
    from fcn_core.resources import DEMO_MODEL

    data = make_demo_dataset(tmp_path / "demo", count=8, seed=5, size=(64, 48))
    rc = main(["evaluate", "--weights", str(DEMO_MODEL), "--data", str(data), "--device", "cpu",
               "--precision", "int8", "--no-progress", "--json", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "int8 preview" in err and "do not use it for scores" in err
    assert (tmp_path / "r.json").exists()
    assert len(list((tmp_path / "cache" / "onnx").glob("*-int8-*.json"))) == 1


def test_int8_graph_keeps_activations_int8_between_convolutions(tmp_path, cache):
    """ReLU is folded into the convolutions' output ranges and max-pooling runs on uint8: no fp32 round trip
    (dequantize -> ReLU / pool -> quantize) between two int8 convolutions. Only the convolutions reading the
    photo and the score layers stay fp32; the fixed bilinear upsampling runs as Resize."""
    pytest.importorskip("onnxruntime.quantization")
    import onnx

    paths = _noise_images(tmp_path, seed=3, size=(48, 64))
    pred = Predictor(_loaded("fcn8s", n_class=5), device="cpu", precision="int8",
                     calibration=runtime_int8.Calibration(paths, calibrate=4, held_out=2))
    assert pred.backend == "onnxruntime" and pred.precision == "int8", pred.notes
    graph = onnx.load(str(pred._forward.path)).graph
    producer = {o: n for n in graph.node for o in n.output}
    fp32_convs = [n.name for n in graph.node
                  if n.op_type == "Conv" and producer.get(n.input[1], n).op_type != "DequantizeLinear"]
    assert fp32_convs and all("conv1_1" in c or "score" in c for c in fp32_convs), fp32_convs
    for n in graph.node:
        if n.op_type == "Relu":  # only after the fp32 first convolution
            assert producer[n.input[0]].name in fp32_convs, n.name
        if n.op_type == "MaxPool":  # quantized: reads a dequantized int8 tensor
            assert producer[n.input[0]].op_type == "DequantizeLinear", n.name
    # FCN-8s's three fixed bilinear deconvolutions run as Resize (fcn_core.onnx_bilinear).
    ops = [n.op_type for n in graph.node]
    assert "ConvTranspose" not in ops and ops.count("Resize") == 3


def test_int8_calibration_cancelled_between_images_leaves_nothing_half_written(tmp_path, cache):
    pytest.importorskip("onnxruntime.quantization")
    paths = _noise_images(tmp_path, seed=5, size=(40, 56))
    loaded = _loaded("fcn8s", n_class=5)
    asked = []

    def stop_at(n):
        def should_stop():
            asked.append(1)
            return len(asked) >= n
        return should_stop

    # While calibrating: the Predictor does not fall back to torch, it passes the cancellation on.
    with pytest.raises(runtime_int8.CalibrationCancelled):
        Predictor(loaded, device="cpu", precision="int8",
                  calibration=runtime_int8.Calibration(paths, 4, 2, should_stop=stop_at(3)))
    assert not list(cache.glob("*int8*")), list(cache.iterdir())  # no graph, no report, no temporary folder
    # While measuring the agreement: the quantized graph is whole and kept, the report is not written.
    asked.clear()
    graph_written = lambda: bool(list(cache.glob("*int8*.onnx")))  # noqa: E731
    calibration = runtime_int8.Calibration(paths, 4, 2, should_stop=graph_written)
    with pytest.raises(runtime_int8.CalibrationCancelled):
        runtime_int8.load_int8(loaded, calibration)
    assert len(list(cache.glob("*int8*.onnx"))) == 1 and not list(cache.glob("*int8*.json"))
    # Not stopped: the same images (the key ignores should_stop) reuse the graph and measure the agreement.
    int8, report = runtime_int8.load_int8(loaded, runtime_int8.Calibration(paths, 4, 2))
    assert 0 <= report["agreement"] <= 1 and len(list(cache.glob("*int8*.json"))) == 1
