"""Patient-ready PDF reports (Jinja2 HTML rendered by WeasyPrint)."""

from calfsim.report._plan_pdf import plan_html, write_plan_pdf

__all__ = ["plan_html", "write_plan_pdf"]
