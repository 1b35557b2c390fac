"""The HTML report (see docs/reports.md): fits and runs tables in, one self-contained interactive page out.

    report(["fit.json", "dataset:porian_isoflop"], "report.html")   build and write
    build_report(inputs, ...) -> Report                              the record; Report.html(), Report.write(path)
    SECTIONS, section_kind                                           one function per kind of section
"""

from .build import Report, build_report, command_line, report
from .sections import SECTIONS, Context, Section, section_kind

__all__ = ["SECTIONS", "Context", "Report", "Section", "build_report", "command_line", "report", "section_kind"]
