import {expect, test} from '@playwright/test';
import {pageErrors} from './support';

/** The lab page: the kit from source, exposed as `window.lab`. */
const LAB = `http://127.0.0.1:${process.env['SB_E2E_LAB_PORT']}/`;

test('SwitchboardElement.define() registers a tag once, keeps another bundle\'s copy, and refuses a class without its own tag', async ({page}) => {
  const errors = pageErrors(page);
  await page.goto(LAB);
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  const result = await page.evaluate(() => {
    const {SwitchboardElement, html} = window.lab;
    const tag = `lab-greeting-${Math.random().toString(36).slice(2)}`;
    class Greeting extends SwitchboardElement {
      static override readonly tag = tag;
      override render() {
        return html`<p>hello</p>`;
      }
    }
    // The same element from a second bundle: a different class under the same tag.
    class GreetingCopy extends SwitchboardElement {
      static override readonly tag = tag;
    }
    class Unnamed extends Greeting {}
    const first = Greeting.define();
    const again = Greeting.define();
    const copy = GreetingCopy.define();
    let refused = '';
    try {
      Unnamed.define();
    } catch (error) {
      refused = `${(error as Error).name}: ${(error as Error).message}`;
    }
    const element = document.body.appendChild(document.createElement(tag));
    return {
      tag,
      first: first === Greeting,
      again: again === Greeting,
      copyGetsFirst: copy === Greeting,
      registered: customElements.get(tag) === Greeting,
      instance: element instanceof Greeting,
      refused,
    };
  });
  expect(result).toEqual({tag: result.tag, first: true, again: true, copyGetsFirst: true, registered: true, instance: true, refused: 'TypeError: Unnamed needs a static tag of its own to be defined'});
  await expect(page.locator(result.tag).getByText('hello')).toBeVisible();
  expect(errors).toEqual([]);
});
