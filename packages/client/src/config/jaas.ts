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
