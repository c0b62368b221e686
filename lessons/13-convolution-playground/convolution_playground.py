"""A convolution playground: nn.Conv2d and nn.MaxPool2d next to the same sums by hand.

A convolution slides a small kernel over the image; at each position it multiplies
the overlapping numbers pairwise and adds them up. Padding puts a border of zeros
around the image first; stride is how far the kernel jumps between positions.
Every torch result below is recomputed with plain Python loops and compared.
"""

import torch
from torch import nn

# The course's 5x5 single-channel image and its 4x4 pooling example.
IMAGE = [[3, 4, 6, 5, 7],
         [2, 4, 6, 8, 2],
         [1, 6, 7, 8, 4],
         [9, 7, 4, 6, 2],
         [3, 7, 5, 4, 1]]  # fmt: skip
POOL_IMAGE = [[3, 4, 6, 5],
              [2, 4, 6, 8],
              [1, 6, 7, 8],
              [9, 7, 4, 6]]  # fmt: skip


def conv2d_by_hand(image, weight, bias=None, padding=0, stride=1):
    """Convolve a (C, H, W) nested list with a (O, C, k, k) kernel; returns (O, H', W').

    Output size per side: (n + 2*padding - k) // stride + 1.
    """
    channels, height, width = len(image), len(image[0]), len(image[0][0])
    k = len(weight[0][0])

    def pixel(c, row, col):
        # Positions outside the image are the zero padding.
        inside = 0 <= row < height and 0 <= col < width
        return image[c][row][col] if inside else 0.0

    out_h = (height + 2 * padding - k) // stride + 1
    out_w = (width + 2 * padding - k) // stride + 1
    output = []
    for o in range(len(weight)):  # one output channel per kernel
        grid = []
        for i in range(out_h):
            row = []
            for j in range(out_w):
                top, left = i * stride - padding, j * stride - padding
                total = 0.0
                for c in range(channels):  # a multi-channel kernel sums over input channels
                    for di in range(k):
                        for dj in range(k):
                            total += weight[o][c][di][dj] * pixel(c, top + di, left + dj)
                row.append(total + (bias[o] if bias is not None else 0.0))
            grid.append(row)
        output.append(grid)
    return output


def max_pool_by_hand(image, k):
    """Largest value in each non-overlapping k x k block (stride = k, like MaxPool2d(k))."""
    return [
        [
            max(image[i + di][j + dj] for di in range(k) for dj in range(k))
            for j in range(0, len(image[0]) - k + 1, k)
        ]
        for i in range(0, len(image) - k + 1, k)
    ]


def kernel_1_to_n(k):
    """A (1, 1, k, k) kernel holding 1, 2, ..., k*k row by row (the course's 1..9 for k = 3)."""
    return torch.arange(1, k * k + 1, dtype=torch.float32).view(1, 1, k, k)


def conv_layer(kernel_size, padding=0, stride=1):
    """1 input channel -> 1 output channel, no bias, weights set by hand."""
    conv = nn.Conv2d(1, 1, kernel_size=kernel_size, padding=padding, stride=stride, bias=False)
    conv.weight.data = kernel_1_to_n(kernel_size)  # (out_channels, in_channels, k, k)
    return conv


def grid_text(grid):
    """A 2-D list as right-aligned columns."""
    return "\n".join("  ".join(f"{v:6g}" for v in row) for row in grid)


def show(ctx, title, torch_out, hand_out):
    ctx.log(f"{title}: output shape {tuple(torch_out.shape)}")
    ctx.log(grid_text(torch_out[0, 0].tolist()))
    same = torch_out[0, 0].tolist() == hand_out
    ctx.log(f"by hand: {'identical' if same else 'DIFFERENT'}")


def train(ctx):
    device = ctx.device
    # Conv2d wants (batch, channels, height, width): one image with one channel.
    x = torch.tensor(IMAGE, dtype=torch.float32, device=device).view(1, 1, 5, 5)
    ctx.record("input_shape", x.shape)
    hand_image = [IMAGE]  # (C, H, W) for the hand version
    kernel3 = kernel_1_to_n(3).tolist()  # (O=1, C=1, 3, 3) as nested lists
    ctx.log("input (5x5):")
    ctx.log(grid_text(IMAGE))
    ctx.log("kernel (3x3):")
    ctx.log(grid_text(kernel3[0][0]))

    with torch.no_grad():
        # 1. plain: the 3x3 kernel fits in 3 positions per side -> 3x3
        out_plain = conv_layer(3).to(device)(x)
        plain_by_hand = conv2d_by_hand(hand_image, kernel3)[0]
        ctx.record("out_plain_shape", out_plain.shape)
        ctx.record("out_plain", out_plain[0, 0])
        ctx.record("out_plain_by_hand", plain_by_hand)
        show(ctx, "plain conv (padding 0, stride 1)", out_plain, plain_by_hand)

        # 2. padding=1: a ring of zeros keeps the output 5x5
        out_padded = conv_layer(3, padding=1).to(device)(x)
        padded_by_hand = conv2d_by_hand(hand_image, kernel3, padding=1)[0]
        ctx.record("out_padded_shape", out_padded.shape)
        ctx.record("out_padded", out_padded[0, 0])
        ctx.record("out_padded_by_hand", padded_by_hand)
        show(ctx, "padding=1", out_padded, padded_by_hand)

        # 3. stride=2: the kernel jumps two columns/rows at a time -> 2x2
        out_strided = conv_layer(3, stride=2).to(device)(x)
        strided_by_hand = conv2d_by_hand(hand_image, kernel3, stride=2)[0]
        ctx.record("out_strided_shape", out_strided.shape)
        ctx.record("out_strided", out_strided[0, 0])
        ctx.record("out_strided_by_hand", strided_by_hand)
        show(ctx, "stride=2", out_strided, strided_by_hand)
        ctx.check_cancelled()

        # 4. max pooling 2x2 on the 4x4 example: the largest of each 2x2 block
        pool_in = torch.tensor(POOL_IMAGE, dtype=torch.float32, device=device).view(1, 1, 4, 4)
        pooled = nn.MaxPool2d(kernel_size=2)(pool_in)
        pooled_by_hand = max_pool_by_hand(POOL_IMAGE, 2)
        ctx.record("pooled_shape", pooled.shape)
        ctx.record("pooled", pooled[0, 0])
        ctx.record("pooled_by_hand", pooled_by_hand)
        show(ctx, "MaxPool2d(2) on the 4x4 input", pooled, pooled_by_hand)

        # 5. channels: 3 input channels -> 10 output channels needs 10 kernels of shape 3x3x3
        conv_rgb = nn.Conv2d(3, 10, kernel_size=3).to(device)  # random weights, with bias
        image_rgb = torch.randn(1, 3, 8, 8, device=device)
        out_rgb = conv_rgb(image_rgb)
        rgb_by_hand = conv2d_by_hand(
            image_rgb[0].tolist(), conv_rgb.weight.tolist(), conv_rgb.bias.tolist()
        )
        rgb_diff = (out_rgb[0] - torch.tensor(rgb_by_hand, device=device)).abs().max()
        ctx.record("channels_input_shape", image_rgb.shape)
        ctx.record("channels_weight_shape", conv_rgb.weight.shape)
        ctx.record("channels_bias_shape", conv_rgb.bias.shape)
        ctx.record("channels_output_shape", out_rgb.shape)
        ctx.record("channels_max_diff", rgb_diff)
        ctx.log(
            f"channels: input {tuple(image_rgb.shape)} * weight {tuple(conv_rgb.weight.shape)} "
            f"-> output {tuple(out_rgb.shape)}; largest difference to the hand sums "
            f"{rgb_diff.item():.2e} (float rounding only)"
        )
        ctx.check_cancelled()

        # 6. your settings, on the same 5x5 input with a 1..k*k kernel
        k, p, s = ctx.params.kernel_size, ctx.params.padding, ctx.params.stride
        out_custom = conv_layer(k, padding=p, stride=s).to(device)(x)
        custom_by_hand = conv2d_by_hand(hand_image, kernel_1_to_n(k).tolist(), padding=p, stride=s)
        ctx.record("custom_output_shape", out_custom.shape)
        ctx.record("custom_output", out_custom[0, 0])
        ctx.record("custom_by_hand", custom_by_hand[0])
        ctx.log(f"your settings: kernel {k}, padding {p}, stride {s} -> "
                f"(5 + 2*{p} - {k}) // {s} + 1 = {(5 + 2 * p - k) // s + 1} per side")
        show(ctx, "your settings", out_custom, custom_by_hand[0])
