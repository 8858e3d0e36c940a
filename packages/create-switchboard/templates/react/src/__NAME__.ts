import {pageBus} from '@switchboard/bus';
import {defineReactElement} from '@switchboard/react';
import {Greeted} from './contract';
import {__CLASS__} from './__CLASS__';

// The page's bus must know the contract before the first event arrives.
pageBus().register(Greeted);

/** `<__TAG__>`: the React component shipped as a custom element; `hub` sets the hub's URL. */
defineReactElement('__TAG__', __CLASS__, {props: {hub: 'string'}});
