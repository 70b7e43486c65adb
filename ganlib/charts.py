"""Plotly figures: a run's metrics (thinned when long, never what is recorded), the Playground's game and canvas."""
import numpy as np
import plotly.graph_objects as go
import torch

MAX_POINTS = 600


def thin(rows, max_points=MAX_POINTS):
    """At most ~max_points rows, evenly spaced, always keeping the latest one."""
    if len(rows) <= max_points:
        return rows
    stride = -(-len(rows) // max_points)  # ceil
    return rows[::stride] + ([rows[-1]] if (len(rows) - 1) % stride else [])


def line_chart(rows, series, title, y_title, y_range=None, height=260, x="step"):
    """One line per (column, label) in `series`, against column `x` (the step, unless told); each trace names its
    column in `meta`, so a live view can append rows to it."""
    rows = thin(rows)
    xs = [r[x] for r in rows]
    figure = go.Figure([go.Scatter(x=xs, y=[r[column] for r in rows], name=label, mode="lines", meta=column)
                        for column, label in series])
    figure.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=10), xaxis_title=x,
                         yaxis_title=y_title, legend=dict(orientation="h", y=-0.3), uirevision="keep")
    if y_range:
        figure.update_yaxes(range=y_range)
    return figure


def loss_chart(rows, x="step"):
    return line_chart(rows, [("loss_d", "loss D"), ("loss_g", "loss G")], "Losses", "loss", x=x)


def score_chart(rows, probabilities=True, x="step"):
    return line_chart(rows, [("d_real", "D(x): real"), ("d_fake", "D(G(z)): fake")], "The game's scoreboard",
                      "D's output", y_range=[0, 1] if probabilities else None, x=x)


def gradient_chart(rows):
    return line_chart(rows, [("grad_norm_d", "‖∇D‖"), ("grad_norm_g", "‖∇G‖")], "Gradient norms", "norm")


def compare_chart(runs, series, title, y_title, y_range=None, height=300):
    """Several runs on one chart: one colour per run ({label: rows}), one dash per column of `series`."""
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    figure = go.Figure()
    for index, (run_label, rows) in enumerate(runs.items()):
        rows = thin(rows)
        for dash, (column, label) in zip(("solid", "dot", "dash"), series):
            figure.add_trace(go.Scatter(x=[r["step"] for r in rows], y=[r[column] for r in rows], mode="lines",
                                        name=f"{run_label}: {label}",
                                        line=dict(color=colours[index % len(colours)], dash=dash)))
    figure.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=10), xaxis_title="step",
                         yaxis_title=y_title, legend=dict(orientation="h", y=-0.3), uirevision="keep")
    if y_range:
        figure.update_yaxes(range=y_range)
    return figure


def quality_chart(scored, height=260):
    """The quality meter's Fréchet distance per epoch (log scale), with real images' own score as the floor."""
    figure = go.Figure(go.Scatter(x=[e.epoch for e in scored], y=[e.score.frechet for e in scored],
                                  name="samples", mode="lines+markers"))
    real = scored[-1].score.real_frechet if scored else None
    if real:
        figure.add_hline(y=real, line_dash="dot", annotation_text="real images")
    figure.update_layout(title="Fréchet to real (lower is better)", height=height, xaxis_title="epoch",
                         yaxis_title="Fréchet", margin=dict(l=10, r=10, t=40, b=10), uirevision="keep")
    figure.update_yaxes(type="log", dtick=1)  # one label per power of ten
    return figure


def colour_chart(scored, height=260):
    """The colour meter per epoch: coverage (how varied) and, for emoji, the share read as emoji (how real), each
    with the real images' own figure as a dotted floor."""
    floor = scored[-1].score
    series = [("coverage", "covers (how varied)", floor.real_coverage, "top left")]
    if floor.recognised is not None:
        series.insert(0, ("recognised", "read as emoji (how real)", floor.real_recognised, "bottom right"))
    figure = go.Figure()
    for column, label, real, where in series:
        figure.add_trace(go.Scatter(x=[e.epoch for e in scored], y=[getattr(e.score, column) for e in scored],
                                    name=label, mode="lines+markers"))
        if real is not None:
            figure.add_hline(y=real, line_dash="dot", annotation_text=f"real: {real:.0%}", annotation_position=where)
    figure.update_layout(title="How real, how varied (real images: dotted)", height=height, xaxis_title="epoch",
                         yaxis_title="share", legend=dict(orientation="h", y=-0.3),
                         margin=dict(l=10, r=10, t=40, b=10), uirevision="keep")
    figure.update_yaxes(range=[0, 1.02], tickformat=".0%")
    return figure


def class_histogram_chart(histogram, title, height=260):
    """Share of samples the digit classifier puts in each class, against the even share of a healthy G."""
    figure = go.Figure(go.Bar(x=[str(digit) for digit in range(len(histogram))], y=histogram, name="samples"))
    figure.add_hline(y=1 / len(histogram), line_dash="dot", annotation_text="even")
    figure.update_layout(title=title, height=height, xaxis_title="digit", yaxis_title="share of samples",
                         margin=dict(l=10, r=10, t=40, b=10), uirevision="keep")
    figure.update_yaxes(range=[0, max(0.5, max(histogram) * 1.05)])
    return figure


def latent_norm_chart(paths, typical_norm, height=220):
    """‖z‖ along each interpolation path, against the norm most Gaussian latents have (√D)."""
    figure = go.Figure([go.Scatter(y=norms, name=name, mode="lines+markers") for name, norms in paths.items()])
    figure.add_hline(y=typical_norm, line_dash="dot", annotation_text="typical ‖z‖ = √D")
    figure.update_layout(title="Latent norm along the path", height=height, margin=dict(l=10, r=10, t=40, b=10),
                         xaxis_title="frame", yaxis_title="‖z‖", legend=dict(orientation="h", y=-0.35))
    return figure

def canvas_figure(points):
    """A faint grid of clickable dots over [-1, 1]², with a person's points on it (the Playground's canvas)."""
    grid = np.linspace(-1, 1, 41)
    gx, gy = np.meshgrid(grid, grid)
    figure = go.Figure([
        go.Scatter(x=gx.ravel(), y=gy.ravel(), mode="markers", name="canvas", hoverinfo="none",
                   marker=dict(size=7, color="rgba(0,0,0,0.07)")),
        go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points],
                   mode="markers", name="your points", marker=dict(size=8, color="#d62728")),
    ])
    figure.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10), title="Click or lasso to add points",
                         showlegend=False, dragmode="lasso")
    figure.update_xaxes(range=[-1.05, 1.05], constrain="domain")
    figure.update_yaxes(range=[-1.05, 1.05], scaleanchor="x")
    return figure


# --- the 2D Playground's game -------------------------------------------------------------------------

SHOWN_POINTS = 400  # per cloud: enough to see modes, few enough for the browser to redraw fast
GAME_LAYERS = ("Real points", "Generated points", "D's heatmap", "Warped noise grid", "G's push")


def game_figure(gan, layers, height):
    """One figure: D's heatmap, the warped noise grid, real and generated points, and G's push as arrows."""
    bound = gan.data.scale
    traces = []
    if "D's heatmap" in layers:
        axis, field = gan.discriminator_field(resolution=48)
        probabilities = gan.loss.probabilities
        traces.append(go.Heatmap(x=axis.numpy(), y=axis.numpy(), z=field.numpy(), colorscale="RdBu", opacity=0.55,
                                 zmin=0 if probabilities else None, zmax=1 if probabilities else None,
                                 colorbar=dict(title="D", thickness=12), hoverinfo="skip"))
    if "Warped noise grid" in layers:
        xs, ys = polylines([line.numpy() for line in gan.warped_grid()])
        traces.append(go.Scatter(x=xs, y=ys, mode="lines", name="G(noise grid)", hoverinfo="skip",
                                 line=dict(color="rgba(90,90,90,0.45)", width=1)))
    if "Real points" in layers:
        real = gan.data.sample(SHOWN_POINTS, torch_seed(0)).numpy()
        traces.append(go.Scatter(x=real[:, 0], y=real[:, 1], mode="markers", name="real",
                                 marker=dict(size=5, color="#2ca02c")))
    if "Generated points" in layers:
        fake = gan.sample(SHOWN_POINTS, seed=0).numpy()
        traces.append(go.Scatter(x=fake[:, 0], y=fake[:, 1], mode="markers", name="generated",
                                 marker=dict(size=5, color="#9467bd")))
    if "G's push" in layers:
        traces.append(push_arrows(gan, bound))
    figure = go.Figure(traces)
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), uirevision="keep",
                         legend=dict(orientation="h", y=-0.06), font=dict(size=18 if height > 600 else 13))
    figure.update_xaxes(range=[-bound, bound], constrain="domain")
    figure.update_yaxes(range=[-bound, bound], scaleanchor="x")
    return figure


def push_arrows(gan, bound):
    """Arrows from fake points along −∂L_G/∂x, the longest one 15% of the plot; its size is in the legend."""
    points, push = (t.numpy() for t in gan.generator_push(n=100))
    longest = float(np.linalg.norm(push, axis=1).max())
    ends = points + push * (0.15 * bound / max(longest, 1e-30))
    xs, ys = polylines([np.stack([start, end]) for start, end in zip(points, ends)])
    sizes = [0, 9, 0] * len(points)  # an arrowhead at each segment's end only
    return go.Scatter(x=xs, y=ys, mode="lines+markers", name=f"G's push (longest ‖∇‖ = {longest:.2g})",
                      line=dict(color="#ff7f0e", width=1.5), hoverinfo="skip",
                      marker=dict(symbol="arrow", size=sizes, angleref="previous", color="#ff7f0e"))


def polylines(lines):
    """[P, 2] arrays → x and y lists with None between lines: many lines in one trace."""
    xs, ys = [], []
    for line in lines:
        xs += [*line[:, 0].tolist(), None]
        ys += [*line[:, 1].tolist(), None]
    return xs, ys


def torch_seed(seed):
    return torch.Generator().manual_seed(seed)
