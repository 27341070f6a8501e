;; whycam's own SIMD kernels, run on tfjs-backend-wasm's heap (the memory is imported, so
;; tensors are read and written in place). `npm run build:simd` assembles this file into
;; binaries.generated.ts; tests/gradients/simd.test.ts checks that the two agree.
;; Counts are in whole 4-lane groups; the caller finishes any remainder.
(module
  (import "env" "memory" (memory MEMORY_LIMITS))

  ;; dx = g(dy) * (lower < z < upper ? 1 : z <= lower ? slope : 0), g(dy) = guided ? max(dy, 0) : dy:
  ;; the backward pass of the ReLU family (ReLU, ReLU6, thresholded, leaky), vanilla or guided.
  (func (export "relu_backward")
    (param $z i32) (param $dy i32) (param $dx i32) (param $groups i32)
    (param $lower f32) (param $upper f32) (param $slope f32) (param $guided i32)
    (local $end i32) (local $vz v128) (local $vg v128) (local $lo v128) (local $hi v128)
    (local $sl v128) (local $one v128) (local $zero v128) (local $factor v128)
    (local.set $lo (f32x4.splat (local.get $lower)))
    (local.set $hi (f32x4.splat (local.get $upper)))
    (local.set $sl (f32x4.splat (local.get $slope)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $zero (f32x4.splat (f32.const 0)))
    (local.set $end (i32.add (local.get $dx) (i32.shl (local.get $groups) (i32.const 4))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $dx) (local.get $end)))
        (local.set $vz (v128.load align=4 (local.get $z)))
        (local.set $vg (v128.load align=4 (local.get $dy)))
        (if (local.get $guided)
          (then (local.set $vg (v128.and (local.get $vg) (f32x4.gt (local.get $vg) (local.get $zero))))))
        ;; 1 inside (lower, upper), slope at or below lower, 0 at or above upper.
        (local.set $factor
          (v128.or
            (v128.and (local.get $one)
              (v128.and (f32x4.gt (local.get $vz) (local.get $lo)) (f32x4.lt (local.get $vz) (local.get $hi))))
            (v128.and (local.get $sl) (f32x4.le (local.get $vz) (local.get $lo)))))
        (v128.store align=4 (local.get $dx) (f32x4.mul (local.get $vg) (local.get $factor)))
        (local.set $z (i32.add (local.get $z) (i32.const 16)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
        (br $next))))
;; One max-pooling window's backward, 4 channels at a time: per channel, the first strictly
  ;; greatest value of the window (row-major; NaN and -Infinity never win) receives dy, added to dx.
  ;; $x and $dx: byte offsets of the window's first cell (channel 0) in the input and in dx (same
  ;; layout); $dy: this output's dy (channel 0); strides in bytes.
  (func (export "maxpool_grad_window")
    (param $x i32) (param $dx i32) (param $dy i32) (param $groups i32)
    (param $rows i32) (param $cols i32) (param $rowStride i32) (param $colStride i32)
    (local $g i32) (local $r i32) (local $c i32) (local $off i32) (local $at_i i32)
    (local $best v128) (local $at v128) (local $v v128) (local $gt v128)
    (block $groups_done
      (loop $group
        (br_if $groups_done (i32.ge_u (local.get $g) (i32.shl (local.get $groups) (i32.const 4))))
        (local.set $best (f32x4.splat (f32.const -inf)))
        (local.set $at (i32x4.splat (i32.const -1)))
        (local.set $r (i32.const 0))
        (block $rows_done
          (loop $row
            (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $c (i32.const 0))
            (block $cols_done
              (loop $col
                (br_if $cols_done (i32.ge_u (local.get $c) (local.get $cols)))
                (local.set $off (i32.add (local.get $g)
                  (i32.add (i32.mul (local.get $r) (local.get $rowStride)) (i32.mul (local.get $c) (local.get $colStride)))))
                (local.set $v (v128.load align=4 (i32.add (local.get $x) (local.get $off))))
                (local.set $gt (f32x4.gt (local.get $v) (local.get $best)))
                (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $gt)))
                (local.set $at (v128.bitselect
                  (i32x4.add (i32x4.splat (local.get $off)) (v128.const i32x4 0 4 8 12))
                  (local.get $at) (local.get $gt)))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $col)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $row)))
        ;; Scatter: each lane's winner (if any) gets its dy.
        (local.set $at_i (i32x4.extract_lane 0 (local.get $at)))
        (if (i32.ge_s (local.get $at_i) (i32.const 0)) (then (call $add (i32.add (local.get $dx) (local.get $at_i)) (i32.add (local.get $dy) (local.get $g)))))
        (local.set $at_i (i32x4.extract_lane 1 (local.get $at)))
        (if (i32.ge_s (local.get $at_i) (i32.const 0)) (then (call $add (i32.add (local.get $dx) (local.get $at_i)) (i32.add (local.get $dy) (i32.add (local.get $g) (i32.const 4))))))
        (local.set $at_i (i32x4.extract_lane 2 (local.get $at)))
        (if (i32.ge_s (local.get $at_i) (i32.const 0)) (then (call $add (i32.add (local.get $dx) (local.get $at_i)) (i32.add (local.get $dy) (i32.add (local.get $g) (i32.const 8))))))
        (local.set $at_i (i32x4.extract_lane 3 (local.get $at)))
        (if (i32.ge_s (local.get $at_i) (i32.const 0)) (then (call $add (i32.add (local.get $dx) (local.get $at_i)) (i32.add (local.get $dy) (i32.add (local.get $g) (i32.const 12))))))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (br $group))))

  ;; *dst += *src (f32).
  (func $add (param $dst i32) (param $src i32)
    (f32.store (local.get $dst) (f32.add (f32.load (local.get $dst)) (f32.load (local.get $src)))))
)
