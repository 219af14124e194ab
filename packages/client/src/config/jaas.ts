/**
 * Kafka's JAAS configuration text, as `sasl.jaas.config` holds it:
 * `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="s" user_admin="s";`
 * One or more login modules, each a class name, a control flag and key=value options (values
 * in double or single quotes, or bare), ended by a semicolon.
 */
export interface JaasModule {
  loginModule: string;
  flag: string;
  options: Map<string, string>;
}

export function parseJaasConfig(text: string): JaasModule[] {
  const modules: JaasModule[] = [];
  let i = 0;
  const n = text.length;
  const skipSpace = () => {
    while (i < n && /\s/.test(text[i])) i++;
  };
  const word = (): string => {
    skipSpace();
    const start = i;
    while (i < n && /[^\s=;"']/.test(text[i])) i++;
    return text.slice(start, i);
  };
  for (;;) {
    skipSpace();
    if (i >= n) break;
    const loginModule = word();
    const flag = word();
    if (!loginModule || !/^(required|requisite|sufficient|optional)$/i.test(flag)) {
      throw new Error(`sasl.jaas.config: expected "<LoginModule class> required key=value ...;" near "${text.slice(Math.max(0, i - 20), i + 20)}"`);
    }
    const options = new Map<string, string>();
    for (;;) {
      skipSpace();
      if (i >= n) throw new Error('sasl.jaas.config: a login module must end with ";"');
      if (text[i] === ';') {
        i++;
        break;
      }
      const key = word();
      skipSpace();
      if (!key || text[i] !== '=') throw new Error(`sasl.jaas.config: expected key=value after "${key}"`);
      i++;
      skipSpace();
      let value = '';
      if (text[i] === '"' || text[i] === "'") {
        // Kafka's JaasConfig tokenizer takes double and single quotes.
        const quote = text[i];
        i++;
        while (i < n && text[i] !== quote) {
          if (text[i] === '\\' && i + 1 < n) i++;
          value += text[i++];
        }
        if (i >= n) throw new Error(`sasl.jaas.config: unterminated quoted value of ${key}`);
        i++;
      } else {
        value = word();
      }
      options.set(key, value);
    }
    modules.push({ loginModule, flag: flag.toLowerCase(), options });
  }
  if (modules.length === 0) throw new Error('sasl.jaas.config is empty');
  return modules;
}

/**
 * A JAAS login configuration file (`-Djava.security.auth.login.config=…`): named entries, each
 * `Name { <login modules> };`, with `//` and `/* *\/` comments. Quoted values may hold braces.
 */
export function parseJaasFile(text: string): Map<string, JaasModule[]> {
  const entries = new Map<string, JaasModule[]>();
  // Comments go first (outside quotes), then each entry's body is parsed as sasl.jaas.config text.
  let clean = '';
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      const stop = end < 0 ? text.length : end + 1;
      clean += text.slice(i, stop);
      i = stop;
    } else if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      clean += c;
      i++;
    }
  }
  let at = 0;
  for (;;) {
    const open = clean.indexOf('{', at);
    if (open < 0) break;
    const name = clean.slice(at, open).trim();
    if (!/^[\w.-]+$/.test(name)) throw new Error(`JAAS file: expected an entry name before "{", found "${name.slice(0, 40)}"`);
    // The body ends at the first "}" outside quotes.
    let close = -1;
    for (let i = open + 1, quote = ''; i < clean.length; i++) {
      const c = clean[i];
      if (quote) {
        if (c === quote) quote = '';
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '}') {
        close = i;
        break;
      }
    }
    if (close < 0) throw new Error(`JAAS file: entry ${name} has no closing "}"`);
    entries.set(name, parseJaasConfig(clean.slice(open + 1, close)));
    at = close + 1;
    while (at < clean.length && /\s/.test(clean[at])) at++;
    if (clean[at] !== ';') throw new Error(`JAAS file: entry ${name} must end with "};"`);
    at++;
  }
  return entries;
}
