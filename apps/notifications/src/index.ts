import {NotificationCenter} from './notifications';

NotificationCenter.define();

export {NotificationCenter};
