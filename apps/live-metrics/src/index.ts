import {LiveMetrics} from './live-metrics';

LiveMetrics.define();

export {LiveMetrics};
