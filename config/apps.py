from django.contrib.staticfiles.apps import StaticFilesConfig


class StaticFiles(StaticFilesConfig):
    """Static files without what the front-end packages ship besides the one build we serve (source maps, the
    ECharts variants and extensions): collectstatic would otherwise copy and compress tens of megabytes."""

    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "echarts*.map", "echarts.js", "echarts.common.*",
                       "echarts.simple.*", "echarts.esm.*", "extension"]
