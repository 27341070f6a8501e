/**
 * Build-time assets of the widget, emitted into the 'pwa' compilation (so the app's service
 * worker precaches them and the widget works offline after its first load):
 * - widget/index.html: pwa/widget/widget.html with the hashed widget script linked;
 * - widget/widget-config.json: the host origins allowed to talk to the widget, from
 *   WHYCAM_WIDGET_ORIGINS at build time (comma- or space-separated; `https://a.example`,
 *   `http://localhost:*` for any port, `*` for any origin); unset means localhost only;
 * - widget/demo.html: a demo host page (pwa/widget/demo.html).
 * embed.js itself is an entry of the 'pwa' config with a stable name (widget/embed.js).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Compiler } from 'webpack';
import { widgetConfigFrom } from './protocol';

const DIR = __dirname;

export class WidgetAssetsPlugin {
  constructor(private readonly options: { entry: string }) {}

  apply(compiler: Compiler): void {
    const { RawSource } = compiler.webpack.sources;
    compiler.hooks.thisCompilation.tap('WidgetAssets', (compilation) => {
      compilation.hooks.processAssets.tap({ name: 'WidgetAssets', stage: compiler.webpack.Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL }, () => {
        const emit = (name: string, data: string) => compilation.emitAsset(name, new RawSource(data));
        let config;
        try {
          config = widgetConfigFrom(process.env.WHYCAM_WIDGET_ORIGINS);
        } catch (e) {
          compilation.errors.push(new compiler.webpack.WebpackError(`WHYCAM_WIDGET_ORIGINS: ${(e as Error).message}`));
          return;
        }
        emit('widget/widget-config.json', JSON.stringify(config, null, 2));
        const scripts = [...(compilation.entrypoints.get(this.options.entry)?.getFiles() ?? [])]
          .filter((f) => f.endsWith('.js'))
          .map((f) => `<script defer src="${path.posix.relative('widget', f)}"></script>`);
        emit('widget/index.html', fs.readFileSync(path.join(DIR, 'widget.html'), 'utf8').replace('<!--SCRIPTS-->', scripts.join('\n')));
        emit('widget/demo.html', fs.readFileSync(path.join(DIR, 'demo.html'), 'utf8'));
      });
    });
    compiler.hooks.afterCompile.tap('WidgetAssets', (compilation) => {
      for (const f of ['widget.html', 'demo.html']) compilation.fileDependencies.add(path.join(DIR, f));
    });
  }
}
