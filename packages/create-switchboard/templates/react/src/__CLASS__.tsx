import {useBus, useEvent, useHub} from '@switchboard/react';
import {useEffect, useState} from 'react';
import {Greeted} from './contract';

/** Shows every `greeting.sent` event (from the hub topic `greetings` or the page) and sends one. */
export function __CLASS__({hub = '/hubs/events'}: {hub?: string}) {
  const bus = useBus();
  const bridge = useHub(hub);
  const [texts, setTexts] = useState<readonly string[]>([]);
  useEvent(Greeted, (event) => {
    setTexts((seen) => [...seen, event.data.text]);
  });
  // Only events published from now on arrive (earlier ones: GET /api/topics/greetings/events).
  useEffect(() => void bridge.follow('greetings'), [bridge]);
  return (
    <>
      <button onClick={() => bus.publish(Greeted, {text: 'hello from __TAG__'})}>Say hello</button>
      <ul>
        {texts.map((text, i) => (
          <li key={i}>{text}</li>
        ))}
      </ul>
    </>
  );
}
