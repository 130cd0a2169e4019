import pytest
import torch

from keypoint_trainer.models import HeatmapNet, RegressionNet, build_model
from keypoint_trainer.experiments.stick.plan import BASE, get_experiment


@pytest.fixture(scope="module")
def x():
    torch.manual_seed(0)
    return torch.rand(2, 1, 128, 128)


@pytest.mark.parametrize("size", [32, 64, 128])
@pytest.mark.parametrize("skip", [True, False])
def test_heatmapnet_shapes(x, size, skip):
    m = HeatmapNet(5, heatmap_size=size, skip=skip).eval()
    with torch.no_grad():
        assert m(x).shape == (2, 5, size, size)


def test_seed_architecture_details(x):
    m = HeatmapNet().eval()
    feats = m.encoder(x)
    assert [tuple(f.shape[1:]) for f in feats] == [(32, 64, 64), (64, 32, 32), (128, 16, 16), (256, 8, 8)]
    assert m.deconv4[0].in_channels == 256 and m.deconv4[0].out_channels == 128
    assert m.deconv3[0].in_channels == 256 and m.deconv3[0].out_channels == 64
    assert m.deconv2[0].in_channels == 128 and m.deconv2[0].out_channels == 32
    assert m.final.in_channels == 32 and m.final.out_channels == 5
    r = RegressionNet()
    linears = [l for l in r.head if isinstance(l, torch.nn.Linear)]
    assert [(l.in_features, l.out_features) for l in linears] == [(256, 128), (128, 64), (64, 10)]
    assert [l.p for l in r.head if isinstance(l, torch.nn.Dropout)] == [0.5, 0.5]
    assert isinstance(r.head[-1], torch.nn.Sigmoid)


def test_regression_and_soft_argmax_outputs(x):
    with torch.no_grad():
        r = RegressionNet().eval()(x)
        s = HeatmapNet(head="soft_argmax").eval()(x)
    for out in (r, s):
        assert out.shape == (2, 10)
        assert float(out.min()) > 0 and float(out.max()) < 1


def test_all_experiments_build(x):
    cfg = {"codec": {"heatmap_size": 64, "sigma": 2.0}}
    for name in BASE:
        spec = get_experiment(cfg, name)
        m = build_model(spec).eval()
        with torch.no_grad():
            out = m(x[:1])
        assert out.shape[0] == 1


def _corner_sensitivity(model: torch.nn.Module) -> float:
    """Gradient of the top-left heatmap cell w.r.t. the bottom-right 16x16 input patch."""
    model.eval()
    x = torch.rand(1, 1, 128, 128, requires_grad=True)
    model(x)[0, :, 0, 0].sum().backward()
    return float(x.grad[0, 0, -16:, -16:].abs().sum())


def test_context_blocks_see_the_whole_image():
    torch.manual_seed(0)
    seed = HeatmapNet()
    torch.manual_seed(0)
    wide = HeatmapNet(context=2)
    assert seed.context is not None and len(seed.context) == 0
    assert [b.body[0].dilation for b in wide.context] == [(2, 2), (4, 4)]
    # the seed's bottleneck cannot see the opposite corner; the context blocks can
    assert _corner_sensitivity(seed) == 0.0
    assert _corner_sensitivity(wide) > 0.0
    assert get_experiment({}, "heatmap_fresh_context")["context"] == 2
    with pytest.raises(ValueError):
        HeatmapNet(context=-1)
