"""What the papers' reproduction and the network experiments share.

* :mod:`~experiments.common.io`: atomic writes of text, JSON, CSV and figures;
* :mod:`~experiments.common.runs`: the resumable run store (``config_key``,
  ``load_finished``, ``run_and_save``, ``cached_step``);
* :mod:`~experiments.common.format`: numbers in the Markdown tables (``fmt``);
* :mod:`~experiments.common.stats`: first reach of a loss level, medians over
  seeds;
* :mod:`~experiments.common.cli`: the command-line preamble (comma lists,
  threads, output folder, the machine line).
"""
