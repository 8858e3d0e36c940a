import {InventoryPanel} from './inventory';

InventoryPanel.define();

export {InventoryPanel};
