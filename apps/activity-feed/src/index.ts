import {ActivityFeed} from './activity-feed';

ActivityFeed.define();

export {ActivityFeed};
