# Sphinx configuration of one language tree of the crmlab course site.
#
# Copied verbatim into build/site-src/<lang>/ by crmlab.course.site.assemble(); the values
# that differ between languages (language, titles, the other tree's pages for the language
# switch) come from _site.json beside it, written by the same function. Edit the template
# in crmlab/course/site_template/, never the copy under build/.
import json
from pathlib import Path

_site = json.loads((Path(__file__).parent / "_site.json").read_text(encoding="utf-8"))

project = "crmlab"
author = "crmlab developers"
copyright = "crmlab developers. Code MIT; course text, notebooks and synthetic data CC BY 4.0"
language = _site["sphinx_language"]          # "en" or "zh_CN": UI strings and search splitter
html_title = _site["title"]
html_short_title = "crmlab"

extensions = [
    "myst_nb",                  # notebooks (stored outputs) and Markdown pages
    "sphinx.ext.autodoc",       # API reference from the docstrings
    "sphinx.ext.napoleon",      # numpy-style sections: Parameters, Returns, Attributes, Examples
    "crmlab.course.site",       # language switch, MathML math, docstring-warning allow-list
]

# Notebooks are rendered with the outputs stored in them: never executed here (the test suite
# executes them), so a site build needs no kernel and no data.
nb_execution_mode = "off"
nb_merge_streams = True
nb_ipywidgets_js = {}            # no widget JavaScript from a CDN (the notebooks have no widgets)
nb_output_folder = _site["work_dir"] + "/jupyter_execute"   # extracted figures: not in the site
nb_execution_cache_path = _site["work_dir"] + "/jupyter_cache"
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3         # "#section-title" links inside a page

# Math is converted to MathML at build time (browsers render it natively): no MathJax from a
# CDN, nothing fetched when a page is read offline.
html_math_renderer = "crmlab_mathml"

autodoc_default_options = {"members": True, "show-inheritance": True, "member-order": "bysource"}
autodoc_typehints = "none"       # numpy docstrings carry the types; signatures stay readable
autodoc_preserve_defaults = True
python_maximum_signature_line_length = 72   # longer signatures: one parameter per line
toc_object_entries_show_parents = "hide"     # page contents: "fit()", not "BetaGeoFitter.fit()"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_ivar = True         # Attributes as fields, so they do not collide with autodoc's
napoleon_use_rtype = False
napoleon_use_param = True

templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["crmlab-site.css"]
html_theme = "sphinx_book_theme"
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": True,      # students download the .ipynb of any notebook page
    "use_fullscreen_button": False,
    "article_header_end": ["lang-switch.html", "article-header-buttons.html"],
    "navigation_with_keys": False,
    "navbar_persistent": [],          # the search field lives in the sidebar and the header

    "extra_footer": _site["footer"],
}
html_context = {"default_mode": "light"}
html_show_sourcelink = False
html_copy_source = True               # the download button serves the notebook sources
html_last_updated_fmt = None
html_search_language = _site["search_language"]

exclude_patterns = ["_build", "**.ipynb_checkpoints", "_site.json"]
suppress_warnings = list(_site.get("suppress_warnings", []))
