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
)
