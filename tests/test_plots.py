"""Field plots: a zoom shows its region of the deformed shape, wherever the magnification moves it."""

import numpy as np
from PIL import Image

from reliability.geometry.strip import layered_strip
from reliability.post.plots import draw_field, plot_element_field, plt


def _strip():
    return layered_strip([("cu", 0.3), ("si", 0.3)], 4.0, nx=12, ny=2)


def test_zoom_window_moves_with_the_magnified_displacement():
    """A rigid translation t at magnification m moves the zoom window by m t (the region stays in view)."""
    model = _strip()
    t = np.array([0.02, -0.05])
    u = np.broadcast_to(t, model.nodes.shape)
    fig, ax = plt.subplots()
    draw_field(ax, model, u, np.ones(model.n_elements), 10.0, zoom=(1.0, 0.0, 1.5, 0.3))
    pad = 0.05 * 0.5
    assert np.allclose(ax.get_xlim(), (1.0 - pad + 0.2, 1.5 + pad + 0.2))
    assert np.allclose(ax.get_ylim(), (0.0 - pad - 0.5, 0.3 + pad - 0.5))
    plt.close(fig)


def test_zoom_outside_the_model_gives_an_empty_plot_not_an_error(tmp_path):
    model = _strip()
    path = tmp_path / "empty.png"
    plot_element_field(model, np.zeros_like(model.nodes), np.ones(model.n_elements), path, "t", "l",
                       magnification=1.0, vmin=0.0, vmax=1.0, zoom=(50.0, 50.0, 51.0, 51.0))
    image = np.asarray(Image.open(path).convert("L"))
    assert image.shape[0] > 100 and image.min() < 128  # axes, labels and the colour bar are drawn
