import {OrderForm} from './order-form';

OrderForm.define();

export {OrderForm};
