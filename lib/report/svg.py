"""SVG marks for the report page, small on purpose: a reader can see how every mark is placed.

Each function returns one element as text (`rect(x, y, w, h, fill)` is `<rect x=... />`); a figure
is a list of them inside `svg(...)`, with its title and caption around it (`figure`). No library,
no script: the page opens offline and prints.
"""
import html
import math

# Okabe-Ito: eight colours told apart with every common kind of colour-blindness.
COLOURS = {
    "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#999999",
}
def nice_ticks(low, high, target=5):
    """Round tick values between low and high: 1, 2 or 5 times a power of ten apart.

    nice_ticks(0, 4.8) -> [0, 1, 2, 3, 4]; nice_ticks(-0.05, 1.7) -> [0, 0.5, 1, 1.5].
    """
    span = high - low
    if not span > 0:
        return [low]
    raw_step = span / target
    power = 10 ** math.floor(math.log10(raw_step))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw_step)
    first = math.ceil(low / step)
    return [round(k * step, 12) for k in range(first, math.floor(high / step) + 1)]


def attributes(attrs):
    return "".join(f' {k}="{html.escape(str(v))}"' for k, v in (attrs or {}).items())


def svg(width, height, parts, label):
    return (f'<svg viewBox="0 0 {width:.0f} {height:.0f}" width="100%" role="img" '
            f'aria-label="{html.escape(label)}" xmlns="http://www.w3.org/2000/svg">' + "".join(parts) + "</svg>")


def text(x, y, content, size=13, weight="normal", family="sans-serif", fill="#222", anchor="start", attrs=None):
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-weight="{weight}" font-family="{family}" '
            f'fill="{fill}" text-anchor="{anchor}"{attributes(attrs)}>{html.escape(str(content))}</text>')


def vertical_title(x, y, title):
    """An axis title written bottom to top, centred on (x, y)."""
    return text(x, y, title, size=11, anchor="middle", attrs={"transform": f"rotate(-90 {x} {y:.1f})"})


def rect(x, y, w, h, fill, stroke="none", title=None, attrs=None):
    inner = f"<title>{html.escape(title)}</title>" if title else ""
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}" '
            f'stroke="{stroke}"{attributes(attrs)}>{inner}</rect>')


def line(x1, y1, x2, y2, colour):
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}"/>'


def coordinates(points):
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def polyline(points, colour, width=1.0, dash=None):
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<polyline points="{coordinates(points)}" fill="none" stroke="{colour}" '
            f'stroke-width="{width}"{dashes}/>')


def polygon(points, colour, opacity=1.0):
    return f'<polygon points="{coordinates(points)}" fill="{colour}" fill-opacity="{opacity}" stroke="none"/>'


def circle(x, y, r, colour, attrs=None):
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}"{attributes(attrs)}/>'


def axis_titles(left, top, width, height, x_title, y_title, below=34):
    """The title under a plot's x axis and the one beside its y axis."""
    return [text(left + width / 2, top + height + below, x_title, size=11, anchor="middle"),
            vertical_title(14, top + height / 2, y_title)]


def legend(x, y, colours):
    parts = []
    for name, colour in colours.items():
        parts.append(rect(x, y - 10, 12, 12, colour))
        parts.append(text(x + 16, y, name, size=12))
        x += 16 + 7.5 * len(name) + 18
    return parts


def figure(figure_id, title, svg, caption):
    return (f'<figure id="{figure_id}">\n<h2>{html.escape(title)}</h2>\n{svg}\n'
            f"<figcaption>{caption}</figcaption>\n</figure>")
