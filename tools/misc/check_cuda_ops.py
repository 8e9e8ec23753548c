"""Check mmcv's CUDA ops that the paper's models use against their CPU
results: NMS (RPN, test-time), RoIAlign (box and mask heads) and
DeformConv2d (Table 3's DCN backbones), forward and backward.

    python tools/misc/check_cuda_ops.py

Prints one line per op and exits non-zero on a mismatch or a missing op.
"""
import sys

import torch


def _close(name: str,
           a: torch.Tensor,
           b: torch.Tensor,
           atol: float = 1e-4,
           rtol: float = 1e-4) -> bool:
    a, b = a.detach().cpu().float(), b.detach().cpu().float()
    err = (a - b).abs().max()
    ok = bool(err <= atol + rtol * a.abs().max())
    print(f'{name:32s} max |cuda - cpu| = {err.item():.2e}  '
          f'{"ok" if ok else "MISMATCH"}')
    return ok


def main() -> int:
    if not torch.cuda.is_available():
        print('no CUDA device: nothing to check')
        return 1
    from mmcv.ops import DeformConv2d, RoIAlign, nms
    g = torch.Generator().manual_seed(0)
    ok = True

    # NMS on 2000 random boxes.
    xy = torch.rand(2000, 2, generator=g) * 500
    wh = torch.rand(2000, 2, generator=g) * 100 + 1
    boxes = torch.cat([xy, xy + wh], 1)
    scores = torch.rand(2000, generator=g)
    _, keep_cpu = nms(boxes, scores, 0.5)
    _, keep_gpu = nms(boxes.cuda(), scores.cuda(), 0.5)
    same = torch.equal(keep_cpu, keep_gpu.cpu())
    print(f'{"nms keep indices":32s} {len(keep_cpu)} kept  '
          f'{"ok" if same else "MISMATCH"}')
    ok &= same

    # RoIAlign 7x7 (box head) and 14x14 (mask head), forward and backward.
    feat = torch.randn(2, 16, 50, 84, generator=g)
    rois = torch.cat(
        [torch.randint(0, 2, (64, 1), generator=g).float(), boxes[:64] / 8], 1)
    for size in (7, 14):
        layer = RoIAlign(size, spatial_scale=1.0, sampling_ratio=0)
        outs, grads = [], []
        for dev in ('cpu', 'cuda'):
            x = feat.clone().to(dev).requires_grad_()
            out = layer(x, rois.to(dev))
            out.sum().backward()
            outs.append(out)
            grads.append(x.grad)
        ok &= _close(f'roi_align {size}x{size} forward', *outs)
        ok &= _close(f'roi_align {size}x{size} backward', *grads)

    # DeformConv2d 3x3 with offsets from a conv, as in the DCN ResNet.
    conv = DeformConv2d(16, 16, 3, padding=1, bias=False)
    x0 = torch.randn(2, 16, 25, 42, generator=g)
    offset0 = torch.randn(2, 18, 25, 42, generator=g)
    outs, grads = [], []
    for dev in ('cpu', 'cuda'):
        conv = conv.to(dev)
        conv.zero_grad()
        x = x0.to(dev).requires_grad_()
        out = conv(x, offset0.to(dev))
        out.sum().backward()
        outs.append(out)
        grads.append(conv.weight.grad.clone())
    ok &= _close('deform_conv2d forward', *outs)
    ok &= _close('deform_conv2d weight grad', *grads)
    print('all CUDA ops match' if ok else 'CUDA op mismatches found')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
