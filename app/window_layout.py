"""Building the main window's widgets, docks, menus and tool bar (kept out of main_window.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QVBoxLayout, QWidget

from app import file_actions
from app.actions import Actions
from app.browser import ImageBrowser
from app.evaluation_panel import EvaluationPanel
from app.evaluation_run import EvaluationRun
from app.views.banner import WarningBanner
from app.views.bottom_dock import PanelRoom, ScrollingDockContent
from app.views.legend import ClassLegend
from app.views.panels import PanelGrid
from app.views.readout import CursorReadout
from app.views.view_controls import ViewControls

MENU_TITLES = {"file": "&File", "edit": "&Edit", "view": "&View", "tools": "&Tools", "help": "&Help"}


PANEL_MIN_WIDTH = 260  # each of the two panel columns, when the window allows it
BROWSER_WIDTH = (240, 400)  # (narrowest, widest) image browser
LEGEND_WIDTH = (150, 230)  # (narrowest, widest) class list


def side_dock_widths(width: int) -> tuple[int, int]:
    """(browser, class list) widths for a window ``width`` px wide: in proportion to it (400 and 230 px at
    1280 px and wider), and on a small window narrower still, down to 240 and 150 px, so that each of the
    two panel columns keeps ``PANEL_MIN_WIDTH`` (at 1024 px: 314 + 174, panels ~260 px each)."""
    browser = min(BROWSER_WIDTH[1], max(BROWSER_WIDTH[0], int(0.36 * width)))
    legend = min(LEGEND_WIDTH[1], max(LEGEND_WIDTH[0], int(0.2 * width)))
    room = width - 2 * PANEL_MIN_WIDTH - 16  # dock separators and margins
    if browser + legend > room:
        scale = max(room, 0) / (browser + legend)
        browser = max(BROWSER_WIDTH[0], int(browser * scale))
        legend = max(LEGEND_WIDTH[0], int(legend * scale))
    return browser, legend


def size_side_docks(window) -> None:
    """Size the image browser and the class list for the window's width (``side_dock_widths``)."""
    browser, legend = side_dock_widths(window.width())
    window.resizeDocks([window.docks["browser"], window.docks["legend"]], [browser, legend],
                       Qt.Orientation.Horizontal)


def build_widgets(self) -> None:
    """Panels, docks (browser, legend, evaluation) and the status bar of ``self`` (the MainWindow)."""
    self.grid = PanelGrid()
    self.panels = self.grid.panels
    self.controls = ViewControls()
    central = QWidget()
    lay = QVBoxLayout(central)
    lay.setContentsMargins(2, 2, 2, 2)
    lay.setSpacing(2)
    self.banner = WarningBanner()  # e.g. "model classes differ from the dataset's"
    lay.addWidget(self.banner)
    lay.addWidget(self.grid, 1)
    self.setCentralWidget(central)
    self.browser = ImageBrowser()
    self.legend = ClassLegend()
    self.evaluation = EvaluationPanel(EvaluationRun(self.client, self.workspace, self))
    self.docks: dict[str, QDockWidget] = {}
    for key, title, widget, area in (
        ("browser", "Images", self.browser, Qt.DockWidgetArea.LeftDockWidgetArea),
        ("legend", "Classes", self.legend, Qt.DockWidgetArea.RightDockWidgetArea),
        ("evaluation", "Evaluation", ScrollingDockContent(self.evaluation),
         Qt.DockWidgetArea.BottomDockWidgetArea),
    ):
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
    size_side_docks(self)
    self.resizeDocks([self.docks["evaluation"]], [280], Qt.Orientation.Vertical)
    # the evaluation dock is open from the start (its Evaluate button and, once scored, the metrics are
    # what a first-time user looks for); View → Evaluation closes it, and PanelRoom keeps the panels'
    # share of the height on small windows
    self.panel_room = PanelRoom(self, self.grid, self.docks["evaluation"])  # panels keep ~half the height
    self.status_bar = self.statusBar()
    self.readout = CursorReadout()
    self.device_label = QLabel("no model")
    self.device_label.setToolTip("Device and precision of the inference worker")
    self.status_bar.addPermanentWidget(self.readout, 1)
    self.status_bar.addPermanentWidget(self.device_label)


def build_menus(self) -> None:
    """Menus (``self.menus``), the typed actions (``self.actions``), the view tool bar (``self.tool_bar``) and
    the editing tool bar below it (``self.edit_tool_bar``, filled by the EditingController)."""
    self.actions = Actions(self)
    self.menus = {key: self.menuBar().addMenu(title) for key, title in MENU_TITLES.items()}
    self.recent_menu = self.menus["file"].addMenu("Open &recent")
    self.actions.add_to_menus(self.menus)
    self.menus["file"].insertMenu(self.actions.save_screenshot, self.recent_menu)
    self.recent_menu.aboutToShow.connect(lambda: file_actions.fill_recent_menu(self.recent_menu, self))
    for dock in self.docks.values():
        self.menus["view"].addAction(dock.toggleViewAction())
    self.tool_bar = self.addToolBar("Main")
    self.tool_bar.setObjectName("toolbar_main")
    self.tool_bar.addAction(self.actions.open_dataset)
    self.tool_bar.addAction(self.actions.open_models)
    self.tool_bar.addSeparator()
    self.tool_bar.addWidget(self.controls)
    self.tool_bar.addSeparator()
    for key in ("show_error", "show_confidence", "evaluate"):
        self.tool_bar.addAction(self.actions[key])
    # editing tools get their own row: one bar holding both overflowed behind "»" below ~1700 px
    self.addToolBarBreak()
    self.edit_tool_bar = self.addToolBar("Editing")
    self.edit_tool_bar.setObjectName("toolbar_edit")
    for action in self.actions._actions.values():
        self.addAction(action)  # shortcuts work whichever dock has focus
