"""Plotly figures of a run's metrics. Long runs stay light: what is drawn is thinned, never what is recorded."""
import plotly.graph_objects as go

MAX_POINTS = 600


def thin(rows, max_points=MAX_POINTS):
    """At most ~max_points rows, evenly spaced, always keeping the latest one."""
    if len(rows) <= max_points:
        return rows
    stride = -(-len(rows) // max_points)  # ceil
    return rows[::stride] + ([rows[-1]] if (len(rows) - 1) % stride else [])


def line_chart(rows, series, title, y_title, y_range=None, height=260, x="step"):
    """One line per (column, label) in `series`, against column `x` (the step, unless told)."""
    rows = thin(rows)
    xs = [r[x] for r in rows]
    figure = go.Figure([go.Scatter(x=xs, y=[r[column] for r in rows], name=label, mode="lines")
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
