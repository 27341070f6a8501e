#!/usr/bin/python3
"""The same work as one whycam request, in PyTorch, on the same network and weights.

Reads a tfjs LayersModel (model.json and its weight files, float32 or quantised) and builds
it as PyTorch ops (NCHW, eager, the way PyTorch users write models), then does what whycam's
full request does: one forward pass, Grad-CAM at the target layer (the gradient of the class
logit at that layer, a backward pass through the head only), the vanilla input gradient, the
guided input gradient (guided backpropagation: at every ReLU-family unit only positive
gradients pass) and Guided Grad-CAM. Native autograd throughout; the guided pass is the same
graph walked again with a hook on every ReLU-family output that drops negative gradients.

  same_work.py --model <dir/model.json> --target <layer name> [--runs N] [--threads 1]
               [--input <float32 NHWC file>] [--layouts nchw,channels_last] [--dump <dir>] [--json <file>]

Prints one line of JSON (medians after a warm-up; ms): forward_ms, first_map_ms (forward +
Grad-CAM), full_ms (all of it), for each memory layout and, at the top, for the layout whose
full request is faster (PyTorch's best on this model). The weights are plain tensors (no
requires_grad), which lets PyTorch take its inference convolutions. --dump writes the maps as float32 little-endian files
(probabilities, gradcam [h*w], vanilla and guided [H*W*C], NHWC) for the parity test.

Debian's python3-torch (1.13) is enough; nothing is downloaded.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

GUIDED = [False]


class Unsupported(Exception):
    pass


def read_weights(model_dir, manifest):
    """Every weight of a tfjs weights manifest, dequantised to float32 numpy arrays, by name."""
    out = {}
    for group in manifest:
        blob = b''.join(open(os.path.join(model_dir, p), 'rb').read() for p in group['paths'])
        offset = 0
        for w in group['weights']:
            shape = w['shape']
            count = int(np.prod(shape)) if shape else 1
            q = w.get('quantization')
            dtype = q['dtype'] if q else w['dtype']
            np_dtype = {'float32': np.float32, 'int32': np.int32, 'uint8': np.uint8, 'uint16': np.uint16, 'float16': np.float16}[dtype]
            size = count * np.dtype(np_dtype).itemsize
            raw = np.frombuffer(blob, dtype=np_dtype, count=count, offset=offset)
            offset += size
            if q and dtype in ('uint8', 'uint16'):
                values = raw.astype(np.float32) * q['scale'] + q['min']
            else:
                values = raw.astype(np.float32)
            out[w['name']] = values.reshape(shape)
    return out


def same_pads(size, k, s, d):
    """TensorFlow's 'same' padding (before, after) of one spatial dimension."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def guided_hook(y):
    if y.requires_grad:
        y.register_hook(lambda g: g.clamp(min=0) if GUIDED[0] else None)
    return y


def relu_family(x, max_value=None, slope=0.0, threshold=0.0):
    if threshold:
        raise Unsupported('ReLU with a threshold')
    if slope:
        y = F.leaky_relu(x, slope)
        if max_value is not None:
            y = y.clamp(max=max_value)
    elif max_value is not None:
        y = F.hardtanh(x, 0.0, max_value)
    else:
        y = F.relu(x)
    return guided_hook(y)


def activation(name, x):
    if name in (None, 'linear'):
        return x
    if name == 'relu':
        return relu_family(x)
    if name == 'relu6':
        return relu_family(x, 6.0)
    if name == 'sigmoid':
        return torch.sigmoid(x)
    if name == 'tanh':
        return torch.tanh(x)
    if name == 'softmax':
        return F.softmax(x, dim=1)
    if name in ('swish', 'silu'):
        return F.silu(x)
    if name == 'elu':
        return F.elu(x)
    raise Unsupported(f'activation {name}')


class Net:
    """A Keras-config model as a function of an NCHW tensor, recording the target layer's output."""

    def __init__(self, topology, weights, target, channels_last=False):
        self.weights = weights
        self.target = target
        self.channels_last = channels_last
        self.recorded = None
        self.root = topology.get('model_config', topology)
        # Weights in PyTorch's layouts, converted on first use (the warm-up), so timed runs convert nothing.
        self.params = {}

    def w(self, layer, name):
        hits = [k for k in self.weights if k == f'{layer}/{name}' or k.endswith(f'/{layer}/{name}')]
        if len(hits) != 1:
            raise Unsupported(f'weight {layer}/{name}: {len(hits)} matches')
        return self.weights[hits[0]]

    def param(self, key, make):
        if key not in self.params:
            value = make()
            if self.channels_last and isinstance(value, torch.Tensor) and value.dim() == 4:
                value = value.contiguous(memory_format=torch.channels_last)
            self.params[key] = value
        return self.params[key]

    def __call__(self, x):
        self.recorded = None
        return self.run_model(self.root, [x])[0]

    def run_model(self, cfg, inputs):
        kind = cfg['class_name']
        conf = cfg['config']
        if kind == 'Sequential':
            layers = conf['layers'] if isinstance(conf, dict) else conf
            x = inputs[0]
            for layer in layers:
                if layer['class_name'] == 'InputLayer':
                    continue
                x = self.run_layer(layer, [x])
            return [x]
        layers = conf['layers']
        values = {}
        for (name, node, idx), value in zip(conf['input_layers'], inputs):
            values[(name, node, idx)] = value
        for layer in layers:
            if layer['class_name'] == 'InputLayer':
                continue
            for node_index, node in enumerate(layer['inbound_nodes']):
                args = [values[(n[0], n[1], n[2])] for n in node]
                values[(layer['name'], node_index, 0)] = self.run_layer(layer, args)
        return [values[(n[0], n[1], n[2])] for n in conf['output_layers']]

    def run_layer(self, layer, args):
        kind = layer['class_name']
        if kind in ('Sequential', 'Model', 'Functional'):
            y = self.run_model(layer, args)[0]
        else:
            y = self.op(kind, layer['config'], args)
        if layer.get('name', layer['config'].get('name') if isinstance(layer['config'], dict) else None) == self.target:
            self.recorded = y
        return y

    def op(self, kind, c, args):
        x = args[0]
        name = c.get('name')
        if kind in ('Dropout', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout'):
            return x
        if kind == 'Conv2D':
            k = self.param((name, 'k'), lambda: torch.from_numpy(self.w(name, 'kernel')).permute(3, 2, 0, 1).contiguous())
            b = self.param((name, 'b'), lambda: torch.from_numpy(self.w(name, 'bias')) if c.get('use_bias', True) else None)
            return activation(c.get('activation'), self.conv(x, k, b, c, 1))
        if kind == 'DepthwiseConv2D':
            def make():
                dk = self.w(name, 'depthwise_kernel')
                kh, kw, cin, mult = dk.shape
                return torch.from_numpy(dk.reshape(kh, kw, cin * mult)).permute(2, 0, 1).unsqueeze(1).contiguous()
            k = self.param((name, 'k'), make)
            b = self.param((name, 'b'), lambda: torch.from_numpy(self.w(name, 'bias')) if c.get('use_bias', True) else None)
            return activation(c.get('activation'), self.conv(x, k, b, c, x.shape[1]))
        if kind == 'BatchNormalization':
            def make():
                mean = torch.from_numpy(self.w(name, 'moving_mean'))
                var = torch.from_numpy(self.w(name, 'moving_variance'))
                gamma = torch.from_numpy(self.w(name, 'gamma')) if c.get('scale', True) else None
                beta = torch.from_numpy(self.w(name, 'beta')) if c.get('center', True) else None
                return mean, var, gamma, beta
            mean, var, gamma, beta = self.param((name, 'bn'), make)
            return F.batch_norm(x, mean, var, gamma, beta, False, 0.0, c.get('epsilon', 1e-3))
        if kind == 'ReLU':
            mv = c.get('max_value')
            return relu_family(x, None if mv is None else float(mv), float(c.get('negative_slope') or 0), float(c.get('threshold') or 0))
        if kind == 'LeakyReLU':
            return relu_family(x, slope=float(c.get('alpha', c.get('negative_slope', 0.3))))
        if kind == 'Activation':
            return activation(c['activation'], x)
        if kind == 'Softmax':
            return F.softmax(x, dim=1)
        if kind == 'ZeroPadding2D':
            (t, b), (l, r) = c['padding']
            return F.pad(x, (l, r, t, b))
        if kind in ('MaxPooling2D', 'AveragePooling2D'):
            k = tuple(c['pool_size'])
            s = tuple(c.get('strides') or k)
            pads = (0, 0, 0, 0)
            if c.get('padding') == 'same':
                ph = same_pads(x.shape[2], k[0], s[0], 1)
                pw = same_pads(x.shape[3], k[1], s[1], 1)
                pads = (pw[0], pw[1], ph[0], ph[1])
            if kind == 'MaxPooling2D':
                if any(pads):
                    x = F.pad(x, pads, value=-math.inf)
                return F.max_pool2d(x, k, s)
            if pads[0] == pads[1] and pads[2] == pads[3]:
                return F.avg_pool2d(x, k, s, (pads[2], pads[0]), count_include_pad=False)
            raise Unsupported('asymmetric same average pooling')
        if kind == 'GlobalAveragePooling2D':
            return x.mean(dim=(2, 3), keepdim=bool(c.get('keepdims')))
        if kind == 'GlobalMaxPooling2D':
            return x.amax(dim=(2, 3), keepdim=bool(c.get('keepdims')))
        if kind == 'Flatten':
            return (x.permute(0, 2, 3, 1) if x.dim() == 4 else x).flatten(1)
        if kind == 'Dense':
            w = self.param((name, 'k'), lambda: torch.from_numpy(self.w(name, 'kernel')).t().contiguous())
            b = self.param((name, 'b'), lambda: torch.from_numpy(self.w(name, 'bias')) if c.get('use_bias', True) else None)
            if x.dim() != 2:
                raise Unsupported('Dense on a feature map')
            return activation(c.get('activation'), F.linear(x, w, b))
        if kind == 'Add':
            y = args[0]
            for a in args[1:]:
                y = y + a
            return y
        if kind == 'Multiply':
            y = args[0]
            for a in args[1:]:
                y = y * a
            return y
        if kind == 'Average':
            return sum(args) / len(args)
        if kind == 'Concatenate':
            axis = c.get('axis', -1)
            if axis not in (-1, 3):
                raise Unsupported(f'Concatenate on axis {axis}')
            return torch.cat(args, dim=1)
        raise Unsupported(f'layer {kind}')

    @staticmethod
    def conv(x, k, b, c, groups):
        s = tuple(c.get('strides', (1, 1)))
        d = tuple(c.get('dilation_rate', (1, 1)))
        kh, kw = k.shape[2], k.shape[3]
        pad = (0, 0)
        if c.get('padding') == 'same':
            ph = same_pads(x.shape[2], kh, s[0], d[0])
            pw = same_pads(x.shape[3], kw, s[1], d[1])
            if ph[0] == ph[1] and pw[0] == pw[1]:
                pad = (ph[0], pw[0])
            else:
                x = F.pad(x, (pw[0], pw[1], ph[0], ph[1]))
        return F.conv2d(x, k, b, s, pad, d, groups)


def strip_final_softmax(topology):
    """Scores are logits: the last layer's softmax is taken off (whycam scores the logit too)."""
    cfg = topology.get('model_config', topology)
    node = cfg
    while True:
        conf = node['config']
        layers = conf['layers'] if isinstance(conf, dict) else conf
        if node['class_name'] == 'Sequential':
            last = layers[-1]
        else:
            out = conf['output_layers'][0][0]
            last = next(l for l in layers if l['name'] == out or l['config'].get('name') == out)
        if last['class_name'] in ('Sequential', 'Model', 'Functional'):
            node = last
            continue
        if last['config'].get('activation') == 'softmax':
            last['config']['activation'] = 'linear'
            return True
        if last['class_name'] == 'Softmax' or (last['class_name'] == 'Activation' and last['config'].get('activation') == 'softmax'):
            last['class_name'] = 'Activation'
            last['config']['activation'] = 'linear'
            return True
        return False


def request(net, x, class_index):
    """One request: forward, Grad-CAM, vanilla and guided input gradients, Guided Grad-CAM. Returns (first, full) times and the maps."""
    t0 = time.perf_counter()
    GUIDED[0] = False
    x = x.detach().requires_grad_(True)
    logits = net(x)
    c = int(logits[0].argmax()) if class_index is None else class_index
    score = logits[0, c]
    a = net.recorded
    (ga,) = torch.autograd.grad(score, a, retain_graph=True)
    gradcam = (a * ga.mean(dim=(2, 3), keepdim=True)).sum(dim=1)[0]
    t1 = time.perf_counter()
    (vanilla,) = torch.autograd.grad(score, x, retain_graph=True)
    GUIDED[0] = True
    (guided,) = torch.autograd.grad(score, x)
    GUIDED[0] = False
    cam = F.interpolate(gradcam.clamp(min=0)[None, None], size=x.shape[2:], mode='bilinear', align_corners=False)
    ggc = guided * cam
    t2 = time.perf_counter()
    return (t1 - t0) * 1000, (t2 - t0) * 1000, dict(logits=logits.detach(), gradcam=gradcam.detach(), vanilla=vanilla, guided=guided, ggc=ggc, c=c)


def median(values):
    return statistics.median(values) if values else None


def measure(net, x, runs, class_index):
    """Medians over runs of the stock forward (no_grad), forward + Grad-CAM, and the whole request."""
    fwd, first, full = [], [], []
    for _ in range(runs):
        t = time.perf_counter()
        with torch.no_grad():
            net(x)
        fwd.append((time.perf_counter() - t) * 1000)
        f, g, _ = request(net, x, class_index)
        first.append(f)
        full.append(g)
    return {'forward_ms': median(fwd), 'first_map_ms': median(first), 'full_ms': median(full)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', required=True)
    p.add_argument('--target', required=True)
    p.add_argument('--runs', type=int, default=10)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--input')
    p.add_argument('--class', dest='class_index', type=int)
    p.add_argument('--dump')
    p.add_argument('--json')
    p.add_argument('--layouts', default='nchw,channels_last',
                   help='PyTorch memory formats to time; the faster full request is reported')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_grad_enabled(True)
    spec = json.load(open(a.model))
    model_dir = os.path.dirname(os.path.abspath(a.model))
    topology = spec['modelTopology']
    strip_final_softmax(topology)
    weights = read_weights(model_dir, spec['weightsManifest'])
    h, w, ch = find_input_shape(topology)
    if a.input:
        nhwc = np.fromfile(a.input, dtype='<f4').reshape(1, h, w, ch)
    else:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        nhwc = np.stack([xx / w * 2 - 1, yy / h * 2 - 1, np.sin((xx + yy) / 9)], axis=-1)[None, :, :, :ch].astype(np.float32)
    x_nchw = torch.from_numpy(np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2)))

    result = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'runs': a.runs, 'layouts': {}}
    maps = None
    for layout in a.layouts.split(','):
        net = Net(topology, weights, a.target, channels_last=layout == 'channels_last')
        x = x_nchw.contiguous(memory_format=torch.channels_last) if net.channels_last else x_nchw
        try:
            with torch.no_grad():
                net(x)
            if net.recorded is None:
                print(json.dumps({'error': f'no layer named {a.target}'}))
                return 3
            _, _, layout_maps = request(net, x, a.class_index)  # also the warm-up
        except Unsupported as e:
            print(json.dumps({'error': f'unsupported: {e}'}))
            return 3
        maps = maps or layout_maps
        if a.runs > 0:
            result['layouts'][layout] = measure(net, x, a.runs, a.class_index)
    result['class'] = maps['c']
    if result['layouts']:
        best = min(result['layouts'], key=lambda k: result['layouts'][k]['full_ms'])
        result.update(layout=best, **result['layouts'][best])
    if a.dump:
        os.makedirs(a.dump, exist_ok=True)
        to_nhwc = lambda t: t.detach()[0].permute(1, 2, 0).contiguous().numpy()
        np.asarray(F.softmax(maps['logits'], dim=1)[0].numpy(), dtype='<f4').tofile(os.path.join(a.dump, 'probabilities.f32'))
        np.asarray(maps['gradcam'].numpy(), dtype='<f4').tofile(os.path.join(a.dump, 'gradcam.f32'))
        for k in ('vanilla', 'guided', 'ggc'):
            np.asarray(to_nhwc(maps[k]), dtype='<f4').tofile(os.path.join(a.dump, f'{k}.f32'))
        result['gradcam_shape'] = list(maps['gradcam'].shape)
    line = json.dumps(result)
    if a.json:
        open(a.json, 'w').write(line + '\n')
    print(line)
    return 0


def find_input_shape(topology):
    node = topology.get('model_config', topology)
    while True:
        conf = node['config']
        layers = conf['layers'] if isinstance(conf, dict) else conf
        first = layers[0]
        c = first['config']
        shape = c.get('batch_input_shape') or c.get('batch_shape') if isinstance(c, dict) else None
        if shape:
            return [int(v) for v in shape[1:]]
        if first['class_name'] in ('Sequential', 'Model', 'Functional'):
            node = first
            continue
        raise Unsupported('no input shape in the model config')


if __name__ == '__main__':
    sys.exit(main())
