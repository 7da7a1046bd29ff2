// ECharts for the console's charts, with only the parts we draw (bars and lines on a grid,
// tooltips and legends) so the rest of the library stays out of the bundle.
import ReactEChartsCore from 'echarts-for-react/lib/core';
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent, AriaComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import type { EChartsCoreOption } from 'echarts/core';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, AriaComponent, CanvasRenderer]);

export function EChart({ option, height = 300, label, testId }: { option: EChartsCoreOption; height?: number; label: string; testId?: string }) {
  return (
    <div role="img" aria-label={label} data-testid={testId}>
      <ReactEChartsCore echarts={echarts} option={{ aria: { enabled: true }, ...option }} style={{ height, width: '100%' }} notMerge lazyUpdate />
    </div>
  );
}
